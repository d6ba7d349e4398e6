/** Injection token of the resolved, validated options (`ResolvedKugelCommsOptions`). */
export const KUGEL_COMMS_OPTIONS = 'KUGEL_COMMS:OPTIONS';
