import { AxiosAdapter } from 'axios';
import { InMemoryAnswer, inMemoryAdapter, InMemoryRequest } from './in-memory.adapter';
import { InMemoryFaults } from './in-memory-faults';
import { PublishedMessage, InMemoryPubsub, PublishRefused, goBool } from './in-memory-pubsub';
import { failure, InMemoryStateApi, parseJson, SidecarAnswer } from './in-memory-state-api';
import { InMemoryStateStore } from './in-memory-state.store';
import { StateStoreKind } from './state-store-kinds';

/** The components and app id of the in-memory sidecar. */
export interface InMemorySidecarOptions {
  /**
   * State stores it has (others are answered 400 `ERR_STATE_STORE_NOT_FOUND`, as daprd does), by
   * name, or by name with the component each stands for: `{ statestore: 'redis' }`. The kinds
   * differ as daprd's stores do in their ETag, first-write, TTL and rollback rules: give the one
   * production runs. A name alone is `'in-memory'` (daprd's `state.in-memory`).
   * @default ['statestore']
   */
  stores?: string[] | Record<string, StateStoreKind>;
  /** Pub/sub components it has (others are answered 404 `ERR_PUBSUB_NOT_FOUND`). @default ['pubsub'] */
  pubsubs?: string[];
  /** The app id (the `source` of the CloudEvents it wraps). @default 'kugel-comms-testing' */
  appId?: string;
  /** Values in the stores at boot: `{ statestore: { 'cart-1': { ... } } }`. */
  state?: Record<string, Record<string, unknown>>;
  /**
   * The token sent as `dapr-api-token` on every delivery to the app, as daprd sends its
   * `APP_API_TOKEN`; the app refuses a delivery without the one it expects (401, RETRY).
   * @default process.env.APP_API_TOKEN (an empty value counts as none)
   */
  appApiToken?: string;
}

type Answer = Exclude<InMemoryAnswer, { fault: unknown }>;

const STORE_KIND_NAMES: StateStoreKind[] = ['in-memory', 'redis', 'postgresql'];

/**
 * The Dapr sidecar's HTTP API v1.0, answered from memory, for the sidecar client of a testing
 * module (`DaprClientHelper` keeps its whole pipeline: request builders, breakers per component,
 * retries, `DaprResult` mapping, logs, events). It serves what the client calls — publish and bulk
 * publish, state save/get/delete/bulk/transaction (`InMemoryStateApi`, with each store's kind's
 * rules), the health endpoints — with daprd v1.18's statuses, `errorCode`s and refusals, and
 * records what was published (`InMemoryPubsub`). A path it does not serve is answered 404 naming
 * it. While `down`, every call is refused as a stopped sidecar's would be (`ECONNREFUSED`); a
 * component a test made fail (`faults`) answers as daprd does when its store or broker is down.
 */
export class InMemorySidecar {
  readonly appId: string;
  readonly pubsub: InMemoryPubsub;
  readonly faults = new InMemoryFaults();
  /** What daprd would send as `dapr-api-token` on deliveries (none: no header). */
  readonly appApiToken?: string;
  private readonly stores = new Map<string, { store: InMemoryStateStore; api: InMemoryStateApi }>();
  private readonly initialState: Record<string, Record<string, unknown>>;
  private isDown = false;

  constructor(
    options: InMemorySidecarOptions = {},
    storeFactory = (appId: string, kind: StateStoreKind) => new InMemoryStateStore(appId, kind),
  ) {
    this.appId = options.appId ?? 'kugel-comms-testing';
    const stores = options.stores ?? ['statestore'];
    const kinds: Record<string, StateStoreKind> = Array.isArray(stores)
      ? Object.fromEntries(stores.map((name) => [name, 'in-memory' as const]))
      : { ...stores };
    for (const [name, kind] of Object.entries(kinds)) {
      if (!STORE_KIND_NAMES.includes(kind)) {
        throw new TypeError(`dapr.stores.${name} must be one of ${STORE_KIND_NAMES.join(', ')}, got ${String(kind)}`);
      }
      const store = storeFactory(this.appId, kind);
      this.stores.set(name, { store, api: new InMemoryStateApi(name, store) });
    }
    this.pubsub = new InMemoryPubsub(options.pubsubs ?? ['pubsub'], this.appId);
    this.appApiToken = options.appApiToken ?? (process.env.APP_API_TOKEN || undefined);
    this.initialState = options.state ?? {};
    for (const store of Object.keys(this.initialState)) {
      if (!this.stores.has(store))
        throw new TypeError(`dapr.state names the store "${store}", which dapr.stores lacks`);
    }
    this.seed();
  }

  readonly adapter: AxiosAdapter = inMemoryAdapter((request) => {
    if (this.isDown) return { fault: 'ECONNREFUSED' };
    try {
      return this.answer(request);
    } catch (error) {
      if (error instanceof PublishRefused && error.fault) return { fault: error.fault };
      throw error;
    }
  });

  /** Stops (`true`) or starts answering: a stopped sidecar refuses connections. */
  setDown(down: boolean): void {
    this.isDown = down;
  }

  /** Whether it has a state store or pub/sub component named `name`. */
  hasComponent(name: string): boolean {
    return this.stores.has(name) || this.pubsub.has(name);
  }

  componentNames(): string[] {
    return [...this.stores.keys(), ...this.pubsub.names()];
  }

  /** Every live entry of `store`, parsed, by key. */
  state(store: string): Record<string, unknown> {
    const s = this.stores.get(store);
    if (!s)
      throw new TypeError(
        `the in-memory sidecar has no state store "${store}" (it has ${[...this.stores.keys()].join(', ')})`,
      );
    return s.store.snapshot();
  }

  /** Empties the stores (back to `state` given at boot), forgets what was published and every fault. */
  reset(): void {
    for (const { store } of this.stores.values()) store.clear();
    this.seed();
    this.pubsub.clear();
    this.faults.clear();
    this.isDown = false;
  }

  private seed(): void {
    for (const [store, values] of Object.entries(this.initialState)) this.stores.get(store)!.store.seed(values);
  }

  private answer(r: InMemoryRequest): Answer {
    const parts = r.path.split('/').map((s) => decodeURIComponent(s));
    const [, version, api, a, b] = parts;
    if (r.method === 'GET' && version === 'v1.0' && api === 'healthz' && parts.length <= 4) return { status: 204 };
    if (version === 'v1.0' && api === 'publish' && r.method === 'POST' && parts.length === 5) {
      return this.publish(a, b, r);
    }
    if ((version === 'v1.0-alpha1' || version === 'v1.0') && api === 'publish' && a === 'bulk' && parts.length === 6) {
      if (r.method === 'POST') return this.publishBulk(parts[4], parts[5], r);
    }
    if (version === 'v1.0' && api === 'state' && parts.length >= 4) {
      const s = this.stores.get(a);
      if (!s) return failure(400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${a} is not found`);
      const op = parts.length === 4 ? (r.method === 'POST' ? 'save' : undefined) : stateOperation(r.method, b);
      if (op && this.faults.componentFails(a)) return componentDown(a, op, b);
      if (op === 'save') return s.api.save(r);
      if (op === 'bulk') return s.api.bulkGet(r);
      if (op === 'transaction') return s.api.transaction(r);
      if (op === 'get' && parts.length === 5) return s.api.get(b);
      if (op === 'delete' && parts.length === 5) return s.api.delete(b, r);
    }
    return failure(
      404,
      'ERR_NOT_SERVED',
      `kugel-comms/testing: the in-memory sidecar does not serve ${r.method} ${r.path}`,
    );
  }

  private publish(pubsub: string, topic: string, r: InMemoryRequest): Answer {
    if (!this.pubsub.has(pubsub)) return failure(404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsub} is not found`);
    let message: PublishedMessage;
    try {
      message = this.pubsub.make(pubsub, topic, r.body ?? '', r.headers, metadataOf(r.query));
    } catch (error) {
      if (!(error instanceof PublishRefused) || error.fault) throw error;
      return failure(error.status, error.errorCode, error.message);
    }
    if (this.faults.componentFails(pubsub) || this.faults.publishFails(pubsub, topic, message.data)) {
      const why = `error when publishing to topic ${topic} in pubsub ${pubsub}: ${FAILED}`;
      return failure(500, 'ERR_PUBSUB_PUBLISH_MESSAGE', why);
    }
    this.pubsub.record(message);
    return { status: 204 };
  }

  /**
   * daprd's bulk publish with its emulated publisher (in-memory, Redis): every entry needs a unique
   * `entryId` and a `contentType` its `event` fits (400 otherwise, nothing published), and an own
   * CloudEvent must be an object (500, nothing published); each entry is published with its own
   * metadata only, the call's `metadata.rawPayload` applying to all. Entries that fail (a failing
   * component, `failPublish`) are listed in a 500's `failedEntries`; the others are published.
   */
  private publishBulk(pubsub: string, topic: string, r: InMemoryRequest): Answer {
    if (!this.pubsub.has(pubsub)) return failure(404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsub} is not found`);
    const entries = parseJson(r.body);
    if (!Array.isArray(entries)) return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'the bulk publish body is not an array');
    const ids = new Set<string>();
    const messages: Array<{ entryId: string; message: PublishedMessage }> = [];
    try {
      const rawCall = goBool(r.query.get('metadata.rawPayload') ?? undefined, 'rawPayload');
      for (const entry of entries as Array<Record<string, unknown>>) {
        const id = entry?.entryId;
        if (typeof id !== 'string' || id === '' || ids.has(id)) {
          return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'entryId is duplicated or not present for entry');
        }
        ids.add(id);
        const body = bulkEventBody(entry.event, entry.contentType);
        if (body === undefined) return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'mismatch between contentType and event');
        const metadata = { ...((entry.metadata ?? {}) as Record<string, string>) };
        if (rawCall) metadata.rawPayload = 'true';
        const headers = { 'content-type': String(entry.contentType) };
        messages.push({ entryId: id, message: this.pubsub.make(pubsub, topic, body, headers, metadata) });
      }
    } catch (error) {
      if (!(error instanceof PublishRefused) || error.fault) throw error;
      return failure(error.status, error.errorCode, error.message);
    }
    const failed: Array<{ entryId: string; error: string }> = [];
    for (const { entryId, message } of messages) {
      if (this.faults.componentFails(pubsub) || this.faults.publishFails(pubsub, topic, message.data)) {
        failed.push({ entryId, error: FAILED });
      } else this.pubsub.record(message);
    }
    if (failed.length === 0) return { status: 204 };
    const body = JSON.stringify({ failedEntries: failed, errorCode: 'ERR_PUBSUB_PUBLISH_MESSAGE' });
    return { status: 500, headers: { 'content-type': 'application/json' }, body };
  }
}

/** The error a component made to fail reports (its broker or store's own words, in daprd's answers). */
const FAILED = 'the component is failing (kugel-comms/testing: failComponent / failPublish)';

type StateOperation = 'save' | 'get' | 'delete' | 'bulk' | 'transaction';

function stateOperation(method: string, second: string): StateOperation | undefined {
  if (method === 'POST') return second === 'bulk' ? 'bulk' : second === 'transaction' ? 'transaction' : undefined;
  return method === 'GET' ? 'get' : method === 'DELETE' ? 'delete' : undefined;
}

/** daprd's answer when the store behind `store` fails the operation (500, the operation's code). */
function componentDown(store: string, op: StateOperation, key: string): SidecarAnswer {
  switch (op) {
    case 'save':
      return failure(500, 'ERR_STATE_SAVE', `failed saving state in state store ${store}: ${FAILED}`);
    case 'get':
      return failure(500, 'ERR_STATE_GET', `fail to get ${key} from state store ${store}: ${FAILED}`);
    case 'delete':
      return failure(500, 'ERR_STATE_DELETE', `failed deleting state with key ${key}: ${FAILED}`);
    case 'bulk':
      return failure(500, 'ERR_STATE_BULK_GET', FAILED);
    case 'transaction':
      return failure(500, 'ERR_STATE_TRANSACTION', `error while executing state transaction: ${FAILED}`);
  }
}

/** A bulk entry's event as the bytes daprd publishes, or `undefined` when its content type does not fit it. */
function bulkEventBody(event: unknown, contentType: unknown): string | undefined {
  const type = typeof contentType === 'string' ? contentType.split(';')[0].trim().toLowerCase() : '';
  if (type === 'application/json' || type === 'application/cloudevents+json') return JSON.stringify(event);
  if (type.startsWith('text/') || type === 'application/xml') return typeof event === 'string' ? event : undefined;
  if (type === 'application/octet-stream' && typeof event === 'string') {
    return Buffer.from(event, 'base64').toString('utf8');
  }
  return undefined;
}

/** `metadata.<k>=<v>` query parameters as `{ k: v }`. */
function metadataOf(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of query) if (name.startsWith('metadata.')) out[name.slice('metadata.'.length)] = value;
  return out;
}
