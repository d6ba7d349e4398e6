import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { HttpClientHelper } from '../http/http-client.helper';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { InMemoryDapr } from './in-memory-dapr';
import { InMemorySidecar } from './in-memory-sidecar';
import { PeerStub, PeerStubs, StubRequest } from './peer-stubs';
import { TestingBreakers } from './testing-breakers';
import { TESTING_PEERS, TESTING_SIDECAR } from './testing.constants';

/**
 * What a test drives and asserts through (`moduleRef.get(KugelCommsTesting)`): the stubbed peers
 * and the calls they received, the in-memory Dapr sidecar (`dapr`), and the app's breakers
 * (`breakers`). The app's `KugelCommsModule` providers are the real ones; only what they send is
 * answered in memory, so no socket is opened.
 */
@Injectable()
export class KugelCommsTesting {
  readonly dapr: InMemoryDapr;
  readonly breakers: TestingBreakers;

  constructor(
    @Inject(TESTING_PEERS) private readonly peers: PeerStubs,
    @Inject(TESTING_SIDECAR) private readonly sidecar: InMemorySidecar,
    moduleRef: ModuleRef,
  ) {
    // The app's KugelCommsModule may be anywhere in the graph (and need not be global).
    const find = <T>(type: new (...args: never[]) => T): T => moduleRef.get(type, { strict: false });
    this.dapr = new InMemoryDapr(sidecar, () => find(SubscriptionsService));
    this.breakers = new TestingBreakers({
      registry: () => find(CircuitBreakerRegistry),
      http: () => find(HttpClientHelper),
      dapr: () => find(DaprClientHelper),
    });
  }

  /** Adds routes to `service`, before its existing ones (so they win over the routes given at boot). */
  stub(service: string, ...stubs: PeerStub[]): void {
    this.peers.add(service, stubs);
  }

  /** The calls `service` received, in order, matched or not (`params` filled for matched ones). */
  calls(service: string): StubRequest[] {
    return this.peers.calls(service);
  }

  /**
   * Back to the start, for a module shared by several tests: the stubs given at boot, no recorded
   * calls, the stores as given at boot, nothing published, the sidecar up, every breaker closed.
   */
  reset(): void {
    this.peers.reset();
    this.sidecar.reset();
    this.breakers.closeAll();
  }
}
