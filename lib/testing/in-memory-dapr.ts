import { randomUUID } from 'node:crypto';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { DeliveryOutcome, InMemoryDelivery } from './in-memory-delivery';
import { DeliveryFault, FaultOptions } from './in-memory-faults';
import { PublishedMessage } from './in-memory-pubsub';
import { InMemorySidecar } from './in-memory-sidecar';

/** An event a test hands to the app's handlers (`InMemoryDapr.deliver`). */
export interface TestEventOptions {
  /** CloudEvent `id` (a new UUID by default, as daprd gives every publish). */
  id?: string;
  /** CloudEvent `type`. @default 'com.dapr.event.sent' */
  type?: string;
  /** CloudEvent `source`. @default the sidecar's app id */
  source?: string;
  /** W3C trace context the handler runs in. */
  traceparent?: string;
  /** Publish metadata (`rawPayload: 'true'` for a raw message). */
  metadata?: Record<string, string>;
}

/**
 * The Dapr side of a testing module (`KugelCommsTesting.dapr`): what the app published, its
 * state stores, deliveries to its `@DaprSubscribe` handlers, and the sidecar going down. The app
 * itself talks to it through its real `DaprClientHelper` (booleans and `null`, `dapr.detailed`'s
 * `DaprResult`s, ETags, breakers per component), whose sidecar is answered in memory.
 */
export class InMemoryDapr {
  private readonly delivery: InMemoryDelivery;

  /** @internal Made by `KugelCommsTestingModule`. */
  constructor(
    private readonly sidecar: InMemorySidecar,
    subscriptions: () => SubscriptionsService,
  ) {
    this.delivery = new InMemoryDelivery(sidecar.pubsub, subscriptions, sidecar.faults, sidecar.appApiToken);
  }

  /** The data of every event published to `pubsub`/`topic`, in order (what handlers get as `event.data`). */
  published<T = unknown>(pubsub: string, topic: string): T[] {
    return this.sidecar.pubsub.list(pubsub, topic).map((m) => m.data as T);
  }

  /** The published messages with their CloudEvent, metadata and content type (all of them without arguments). */
  messages(pubsub?: string, topic?: string): PublishedMessage[] {
    return this.sidecar.pubsub.list(pubsub, topic);
  }

  /**
   * Delivers every published message not delivered yet to the handlers subscribed to its topic,
   * as daprd would (`InMemoryDelivery`); resolves to each delivery's outcome. Needs
   * `moduleRef.init()` (or `app.init()`) first: handlers are found when the module initialises.
   */
  flush(): Promise<DeliveryOutcome[]> {
    return this.delivery.flush();
  }

  /**
   * Hands one event to the handler its topic routes it to (not recorded as published), as daprd
   * delivers a JSON publish; resolves to the outcome (`SUCCESS`, `RETRY`, `DROP`). Throws when no
   * handler takes it, or when `pubsub` is not one of the sidecar's components.
   */
  async deliver(
    pubsub: string,
    topic: string,
    data: unknown,
    options: TestEventOptions = {},
  ): Promise<DeliveryOutcome> {
    if (!this.sidecar.pubsub.has(pubsub)) throw new Error(`the in-memory sidecar has no pub/sub component "${pubsub}"`);
    const metadata: Record<string, string> = { ...options.metadata, 'cloudevent.id': options.id ?? randomUUID() };
    if (options.type !== undefined) metadata['cloudevent.type'] = options.type;
    if (options.source !== undefined) metadata['cloudevent.source'] = options.source;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.traceparent !== undefined) headers.traceparent = options.traceparent;
    const message = this.sidecar.pubsub.make(pubsub, topic, JSON.stringify(data), headers, metadata);
    return this.delivery.deliverOne(message);
  }

  /** Every live entry of a state store, parsed, by key. */
  state(store = 'statestore'): Record<string, unknown> {
    return this.sidecar.state(store);
  }

  /** The sidecar stops answering (connections refused): calls fail, the components' breakers count them. */
  down(): void {
    this.sidecar.setDown(true);
  }

  /** The sidecar answers again. */
  up(): void {
    this.sidecar.setDown(false);
  }

  /**
   * One component fails while the sidecar stays up, as when its Redis or broker is down: every call
   * to it (or the next `times`) is answered 500 with daprd's code for the operation
   * (`ERR_STATE_SAVE`, `ERR_STATE_GET`, `ERR_STATE_DELETE`, `ERR_STATE_BULK_GET`,
   * `ERR_STATE_TRANSACTION`, `ERR_PUBSUB_PUBLISH_MESSAGE`; a bulk publish lists every entry in
   * `failedEntries`), and that component's breaker counts the failures. `restoreComponent` ends it.
   */
  failComponent(name: string, options?: FaultOptions): void {
    this.sidecar.faults.failComponent(this.component(name), options);
  }

  /** Ends `failComponent(name)`. */
  restoreComponent(name: string): void {
    this.sidecar.faults.restoreComponent(this.component(name));
  }

  /**
   * Publishes to `pubsub`/`topic` whose event data `match`es (every one without `match`; the next
   * `times` of them) fail as the broker would refuse them: a publish is answered 500
   * `ERR_PUBSUB_PUBLISH_MESSAGE`; in a bulk publish only the matching entries fail (listed in the
   * 500's `failedEntries`, so `detailed.publishBulk` reports them) and the others are published.
   */
  failPublish(
    pubsub: string,
    topic: string,
    match: (data: unknown) => boolean = () => true,
    options?: FaultOptions,
  ): void {
    this.sidecar.faults.failPublish(this.component(pubsub), topic, match, options);
  }

  /**
   * The next delivery on `pubsub`/`topic` (or the next `times`) fails at the app's HTTP edge as
   * `fault` says (`DeliveryFault`: a wrong token, a wrong content type, a body over
   * `subscriptions.maxBodyBytes`, a body that is not JSON); the outcome is the app's own answer.
   */
  failDelivery(pubsub: string, topic: string, fault: DeliveryFault, options?: FaultOptions): void {
    this.sidecar.faults.failDelivery(this.component(pubsub), topic, fault, options);
  }

  private component(name: string): string {
    if (!this.sidecar.hasComponent(name)) {
      throw new Error(`the in-memory sidecar has no component "${name}" (${this.sidecar.componentNames().join(', ')})`);
    }
    return name;
  }
}
