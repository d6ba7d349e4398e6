/** How often a fault a test set up applies. */
export interface FaultOptions {
  /** Applies to this many calls (or entries, or deliveries), then the fault is gone. @default every one until removed */
  times?: number;
}

/**
 * A delivery made to fail at the app's HTTP edge, as daprd's request could fail there. Each goes
 * through the app's real checks, so the outcome is what the app answers daprd:
 * - `'wrong-token'`: without the `dapr-api-token` the app expects (`APP_API_TOKEN`) → 401, RETRY
 *   (no handler runs; an app that checks no token takes it);
 * - `'content-type'`: `text/plain` instead of a JSON type → 415, RETRY;
 * - `'oversize'`: a body over `subscriptions.maxBodyBytes` → a single event DROP (to the
 *   dead-letter topic), a bulk delivery 413, RETRY;
 * - `'malformed'`: a body that is not JSON → DROP.
 */
export type DeliveryFault = 'wrong-token' | 'content-type' | 'oversize' | 'malformed';

interface Counted {
  left: number;
}

/** The faults set on an in-memory sidecar (`InMemoryDapr.failComponent`, `failPublish`, `failDelivery`). */
export class InMemoryFaults {
  private readonly components = new Map<string, Counted>();
  private publishes: Array<Counted & { pubsub: string; topic: string; match: (data: unknown) => boolean }> = [];
  private deliveries: Array<Counted & { pubsub: string; topic: string; fault: DeliveryFault }> = [];

  failComponent(name: string, options: FaultOptions = {}): void {
    this.components.set(name, { left: count(options, 'failComponent') });
  }

  restoreComponent(name: string): void {
    this.components.delete(name);
  }

  failPublish(pubsub: string, topic: string, match: (data: unknown) => boolean, options: FaultOptions = {}): void {
    if (typeof match !== 'function') throw new TypeError('failPublish: match must be a function (data) => boolean');
    this.publishes.push({ pubsub, topic, match, left: count(options, 'failPublish') });
  }

  failDelivery(pubsub: string, topic: string, fault: DeliveryFault, options: FaultOptions = {}): void {
    if (!['wrong-token', 'content-type', 'oversize', 'malformed'].includes(fault)) {
      throw new TypeError(`failDelivery: fault must be 'wrong-token', 'content-type', 'oversize' or 'malformed'`);
    }
    this.deliveries.push({ pubsub, topic, fault, left: count({ times: 1, ...options }, 'failDelivery') });
  }

  /** Whether a call to `component` fails now (one of its `times` used). */
  componentFails(component: string): boolean {
    const f = this.components.get(component);
    if (!f) return false;
    if (--f.left <= 0) this.components.delete(component);
    return true;
  }

  /** Whether the publish of `data` to `pubsub`/`topic` fails now (one of its `times` used). */
  publishFails(pubsub: string, topic: string, data: unknown): boolean {
    const f = this.publishes.find((p) => p.pubsub === pubsub && p.topic === topic && p.match(data));
    if (!f) return false;
    if (--f.left <= 0) this.publishes = this.publishes.filter((p) => p !== f);
    return true;
  }

  /** The fault of the next delivery on `pubsub`/`topic`, when one is set (one of its `times` used). */
  deliveryFault(pubsub: string, topic: string): DeliveryFault | undefined {
    const f = this.deliveries.find((d) => d.pubsub === pubsub && d.topic === topic);
    if (!f) return undefined;
    if (--f.left <= 0) this.deliveries = this.deliveries.filter((d) => d !== f);
    return f.fault;
  }

  clear(): void {
    this.components.clear();
    this.publishes = [];
    this.deliveries = [];
  }
}

function count(options: FaultOptions, what: string): number {
  const times = options.times ?? Infinity;
  if (times !== Infinity && !(Number.isSafeInteger(times) && times > 0)) {
    throw new TypeError(`${what}: times must be a whole number ≥ 1`);
  }
  return times;
}
