import { InMemorySidecarOptions } from './in-memory-sidecar';
import { PeerStub } from './peer-stubs';

/** Options of `KugelCommsTestingModule.forRoot()`. */
export interface KugelCommsTestingOptions {
  /**
   * Stubbed routes of peer services, by service name. A stubbed service needs no base URL in the
   * options (a configured one keeps its retries, timeout and breaker); routes can be added later
   * with `KugelCommsTesting.stub()`.
   */
  stubs?: Record<string, PeerStub[]>;
  /** The in-memory sidecar: its components, app id and the state it starts with. */
  dapr?: InMemorySidecarOptions;
}
