/** Injection token of the resolved, validated options (`ResolvedKugelCommsOptions`). */
export const KUGEL_COMMS_OPTIONS = 'KUGEL_COMMS:OPTIONS';

/** Prefix of the tokens `forFeature` registers, one per service (see `getServiceClientToken`). */
export const SERVICE_CLIENT_TOKEN_PREFIX = 'KUGEL_COMMS:SERVICE_CLIENT:';

/** Internal: the root module's `HttpClientHelper`, visible to every `forFeature` module. */
export const KUGEL_COMMS_FEATURE_HOST = 'KUGEL_COMMS:FEATURE_HOST';
