/**
 * Injection token of the resolved, validated options (`ResolvedKugelCommsOptions`): what the
 * module's providers inject. The options as the app passed them to `forRoot`/`forRootAsync` are
 * under `KUGEL_COMMS_USER_OPTIONS` (`kugel-comms.module-definition.ts`).
 * @internal
 */
export const KUGEL_COMMS_RESOLVED_OPTIONS = 'KUGEL_COMMS:RESOLVED_OPTIONS';

/** Prefix of the tokens `forFeature` registers, one per service (see `getServiceClientToken`). */
export const SERVICE_CLIENT_TOKEN_PREFIX = 'KUGEL_COMMS:SERVICE_CLIENT:';

/** Prefix of the `HttpService` tokens `forFeature` registers, one per service (see `getHttpServiceToken`). */
export const HTTP_SERVICE_TOKEN_PREFIX = 'KUGEL_COMMS:HTTP_SERVICE:';

/**
 * The root module's `HttpClientHelper`, visible to every `forFeature` module.
 * @internal
 */
export const KUGEL_COMMS_FEATURE_HOST = 'KUGEL_COMMS:FEATURE_HOST';

/** Prefix of the tokens `forRepublisher` registers, one per republisher (see `getRepublisherToken`). */
export const REPUBLISHER_TOKEN_PREFIX = 'KUGEL_COMMS:REPUBLISHER:';

/**
 * The root module's `EventRepublishers`, visible to every `forRepublisher` module.
 * @internal
 */
export const KUGEL_COMMS_REPUBLISHERS_HOST = 'KUGEL_COMMS:REPUBLISHERS_HOST';

/**
 * What sends the pooled clients' attempts instead of the network (`TransportSender`): provided by
 * `kugel-comms/testing` only.
 * @internal
 */
export const KUGEL_COMMS_SENDER = 'KUGEL_COMMS:SENDER';
