// Public API of `kugel-comms/testing`: the testing module for an app's own unit tests, and the
// in-memory stand-ins (a `RepublishSource` in process memory).
export { KugelCommsTestingModule } from './kugel-comms-testing.module';
export { KugelCommsTesting } from './kugel-comms-testing.service';
export type { KugelCommsTestingOptions } from './testing-options.interface';
export type { PeerStub, StubReply, StubRequest } from './peer-stubs';
export type { InMemoryFault } from './in-memory.adapter';
export { InMemoryDapr } from './in-memory-dapr';
export type { TestEventOptions } from './in-memory-dapr';
export type { InMemorySidecarOptions } from './in-memory-sidecar';
export type { StateStoreKind } from './state-store-kinds';
export type { DeliveryFault, FaultOptions } from './in-memory-faults';
export type { PublishedMessage } from './in-memory-pubsub';
export type { DeliveryOutcome } from './in-memory-delivery';
export { TestingBreakers } from './testing-breakers';
export { InMemoryRepublishSource } from '../republish/in-memory-republish.source';
export type { DeliveryRecord } from '../republish/in-memory-republish.source';
