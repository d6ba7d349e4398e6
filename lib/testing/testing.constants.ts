/**
 * The testing module's stubbed peers (`PeerStubs`), for `KugelCommsTesting`.
 * @internal
 */
export const TESTING_PEERS = 'KUGEL_COMMS:TESTING_PEERS';

/**
 * The testing module's in-memory sidecar (`InMemorySidecar`), for `KugelCommsTesting`.
 * @internal
 */
export const TESTING_SIDECAR = 'KUGEL_COMMS:TESTING_SIDECAR';
