/**
 * Injection token of the resolved, validated options (`ResolvedKugelCommsOptions`): what the
 * module's providers inject. The options as the app passed them to `forRoot`/`forRootAsync` are
 * under `KUGEL_COMMS_USER_OPTIONS` (`kugel-comms.module-definition.ts`).
 * @internal
 */
export const KUGEL_COMMS_RESOLVED_OPTIONS = 'KUGEL_COMMS:RESOLVED_OPTIONS';
