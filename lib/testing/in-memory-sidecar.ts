import { AxiosAdapter } from 'axios';
import { InMemoryAnswer, inMemoryAdapter, InMemoryRequest } from './in-memory.adapter';
import { InMemoryStateStore, StateConflict, StateWrite } from './in-memory-state.store';
import { InMemoryPubsub } from './in-memory-pubsub';

/** The components and app id of the in-memory sidecar. */
export interface InMemorySidecarOptions {
  /** State stores it has (others are answered 400 `ERR_STATE_STORE_NOT_FOUND`, as daprd does). @default ['statestore'] */
  stores?: string[];
  /** Pub/sub components it has (others are answered 404 `ERR_PUBSUB_NOT_FOUND`). @default ['pubsub'] */
  pubsubs?: string[];
  /** The app id (the `source` of the CloudEvents it wraps). @default 'kugel-comms-testing' */
  appId?: string;
  /**
   * Which daprd state component each store answers like: `in-memory` (default) or `postgresql`
   * (state.postgresql v2: a `first-write` save of a key that exists is 500 `ERR_STATE_SAVE` "no item
   * was updated", not 409; docs/components.md). `{ statestore: 'postgresql' }`.
   */
  kinds?: Record<string, 'in-memory' | 'postgresql'>;
  /** Values in the stores at boot: `{ statestore: { 'cart-1': { ... } } }`. */
  state?: Record<string, Record<string, unknown>>;
}

type Answer = Exclude<InMemoryAnswer, { fault: unknown }>;

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * The Dapr sidecar's HTTP API v1.0, answered from memory, for the sidecar client of a testing
 * module (`DaprClientHelper` keeps its whole pipeline: request builders, breakers per component,
 * retries, `DaprResult` mapping, logs, events). It serves what the client calls — publish, state
 * save/get/delete/bulk/transaction, the health endpoints — with daprd v1.18's
 * statuses, `errorCode`s and ETag rules (`InMemoryStateStore`), and records what was published
 * (`InMemoryPubsub`), bulk publish included. A path it does not serve is answered 404 naming it. While `down`, every call
 * is refused as a stopped sidecar's would be (`ECONNREFUSED`).
 */
export class InMemorySidecar {
  readonly appId: string;
  readonly pubsub: InMemoryPubsub;
  private readonly stores = new Map<string, InMemoryStateStore>();
  private readonly initialState: Record<string, Record<string, unknown>>;
  private readonly kinds: Record<string, 'in-memory' | 'postgresql'>;
  private isDown = false;

  constructor(options: InMemorySidecarOptions = {}, storeFactory = (appId: string) => new InMemoryStateStore(appId)) {
    this.appId = options.appId ?? 'kugel-comms-testing';
    for (const name of options.stores ?? ['statestore']) this.stores.set(name, storeFactory(this.appId));
    this.pubsub = new InMemoryPubsub(options.pubsubs ?? ['pubsub'], this.appId);
    this.initialState = options.state ?? {};
    this.kinds = options.kinds ?? {};
    for (const store of Object.keys(this.initialState)) {
      if (!this.stores.has(store))
        throw new TypeError(`dapr.state names the store "${store}", which dapr.stores lacks`);
    }
    this.seed();
  }

  readonly adapter: AxiosAdapter = inMemoryAdapter((request) =>
    this.isDown ? { fault: 'ECONNREFUSED' } : this.answer(request),
  );

  /** Stops (`true`) or starts answering: a stopped sidecar refuses connections. */
  setDown(down: boolean): void {
    this.isDown = down;
  }

  /** Every live entry of `store`, parsed, by key. */
  state(store: string): Record<string, unknown> {
    const s = this.stores.get(store);
    if (!s)
      throw new TypeError(
        `the in-memory sidecar has no state store "${store}" (it has ${[...this.stores.keys()].join(', ')})`,
      );
    return s.snapshot();
  }

  /** Empties the stores (back to `state` given at boot) and forgets what was published. */
  reset(): void {
    for (const store of this.stores.values()) store.clear();
    this.seed();
    this.pubsub.clear();
    this.isDown = false;
  }

  private seed(): void {
    for (const [store, values] of Object.entries(this.initialState)) {
      this.stores
        .get(store)!
        .write(Object.entries(values).map(([key, value]) => ({ key, json: JSON.stringify(value) })));
    }
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
      const store = this.stores.get(a);
      if (!store) return failure(400, 'ERR_STATE_STORE_NOT_FOUND', `state store ${a} is not found`);
      if (parts.length === 4 && r.method === 'POST') return this.save(a, store, r);
      if (parts.length === 5 && b === 'bulk' && r.method === 'POST') return this.bulkGet(store, r);
      if (parts.length === 5 && b === 'transaction' && r.method === 'POST') return this.transaction(a, store, r);
      if (parts.length === 5 && r.method === 'GET') return this.get(store, b);
      if (parts.length === 5 && r.method === 'DELETE') return this.delete(store, b, r);
    }
    return failure(
      404,
      'ERR_NOT_SERVED',
      `kugel-comms/testing: the in-memory sidecar does not serve ${r.method} ${r.path}`,
    );
  }

  private publish(pubsub: string, topic: string, r: InMemoryRequest): Answer {
    if (!this.pubsub.has(pubsub)) return failure(404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsub} is not found`);
    this.pubsub.record(this.pubsub.make(pubsub, topic, r.body ?? '', r.headers, metadataOf(r.query)));
    return { status: 204 };
  }

  /**
   * daprd's bulk publish with its emulated publisher (in-memory, Redis): every entry needs a unique
   * `entryId` and a `contentType` its `event` fits (400 otherwise, nothing published); each entry
   * is published with its own metadata only, the call's `metadata.rawPayload` applying to all.
   */
  private publishBulk(pubsub: string, topic: string, r: InMemoryRequest): Answer {
    if (!this.pubsub.has(pubsub)) return failure(404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${pubsub} is not found`);
    const entries = parseJson(r.body);
    if (!Array.isArray(entries)) return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'the bulk publish body is not an array');
    const ids = new Set<string>();
    const messages: Array<{ body: string; contentType: string; metadata: Record<string, string> }> = [];
    for (const entry of entries as Array<Record<string, unknown>>) {
      const id = entry?.entryId;
      if (typeof id !== 'string' || id === '' || ids.has(id)) {
        return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'entryId is duplicated or not present for entry');
      }
      ids.add(id);
      const body = bulkEventBody(entry.event, entry.contentType);
      if (body === undefined) return failure(400, 'ERR_PUBSUB_EVENTS_SER', 'mismatch between contentType and event');
      const metadata = { ...((entry.metadata ?? {}) as Record<string, string>) };
      if (r.query.get('metadata.rawPayload') === 'true') metadata.rawPayload = 'true';
      messages.push({ body, contentType: String(entry.contentType), metadata });
    }
    for (const m of messages) {
      this.pubsub.record(this.pubsub.make(pubsub, topic, m.body, { 'content-type': m.contentType }, m.metadata));
    }
    return { status: 204 };
  }

  private save(name: string, store: InMemoryStateStore, r: InMemoryRequest): Answer {
    const items = parseJson(r.body);
    if (!Array.isArray(items)) return failure(400, 'ERR_MALFORMED_REQUEST', 'the state save body is not an array');
    const writes: StateWrite[] = [];
    for (const item of items as Array<Record<string, unknown>>) {
      if (typeof item?.key !== 'string' || item.key === '') {
        return failure(400, 'ERR_MALFORMED_REQUEST', '"key" is a required field');
      }
      writes.push(writeOf(item.key, item, true));
    }
    return this.run(
      () => store.write(writes),
      409,
      'ERR_STATE_SAVE',
      `failed saving state in state store ${name}`,
      this.kinds[name] === 'postgresql',
    );
  }

  private get(store: InMemoryStateStore, key: string): Answer {
    const entry = store.get(key);
    if (!entry) return { status: 204 };
    return { status: 200, headers: { ...JSON_TYPE, etag: entry.etag }, body: entry.json };
  }

  private delete(store: InMemoryStateStore, key: string, r: InMemoryRequest): Answer {
    const etag = r.headers['if-match'];
    const write: StateWrite = { key, etag, concurrency: r.query.get('concurrency') ?? undefined };
    return this.run(() => store.write([write]), 409, 'ERR_STATE_DELETE', `failed deleting state with key ${key}`);
  }

  private bulkGet(store: InMemoryStateStore, r: InMemoryRequest): Answer {
    const body = parseJson(r.body) as { keys?: unknown } | undefined;
    if (!body || !Array.isArray(body.keys)) return failure(400, 'ERR_MALFORMED_REQUEST', 'the bulk body has no "keys"');
    const items = (body.keys as unknown[]).map((key) => {
      const entry = store.get(String(key));
      return entry ? { key, data: JSON.parse(entry.json) as unknown, etag: entry.etag } : { key };
    });
    return { status: 200, headers: JSON_TYPE, body: JSON.stringify(items) };
  }

  private transaction(name: string, store: InMemoryStateStore, r: InMemoryRequest): Answer {
    const body = parseJson(r.body) as { operations?: unknown } | undefined;
    if (!body || !Array.isArray(body.operations)) {
      return failure(400, 'ERR_MALFORMED_REQUEST', 'the transaction body has no "operations"');
    }
    const writes = (body.operations as Array<{ operation?: string; request?: Record<string, unknown> }>).map((op) =>
      writeOf(String(op.request?.key), op.request ?? {}, op.operation === 'upsert'),
    );
    return this.run(
      () => store.transaction(writes),
      500,
      'ERR_STATE_TRANSACTION',
      'error while executing state transaction',
      this.kinds[name] === 'postgresql',
    );
  }

  /**
   * A write, or daprd's answer to a refused one (its wording: "possible etag mismatch"; on
   * PostgreSQL a `first-write` refusal is 500 "no item was updated").
   */
  private run(write: () => void, status: number, errorCode: string, what: string, postgres = false): Answer {
    try {
      write();
      return { status: 204 };
    } catch (error) {
      if (!(error instanceof StateConflict)) throw error;
      if (postgres && error.firstWrite) return failure(500, errorCode, `${what}: no item was updated`);
      return failure(status, errorCode, `${what}: possible etag mismatch. error from state store: ${error.message}`);
    }
  }
}

/** One save item or transaction request as a `StateWrite` (`upsert`: it carries a value). */
function writeOf(key: string, item: Record<string, unknown>, upsert: boolean): StateWrite {
  const options = (item.options ?? {}) as { concurrency?: string };
  const metadata = (item.metadata ?? {}) as Record<string, string>;
  const write: StateWrite = { key, concurrency: options.concurrency };
  if (typeof item.etag === 'string') write.etag = item.etag;
  if (upsert) write.json = JSON.stringify(item.value ?? null);
  if (metadata.ttlInSeconds !== undefined) write.ttlInSeconds = Number(metadata.ttlInSeconds);
  return write;
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

function failure(status: number, errorCode: string, message: string): Answer {
  return { status, headers: JSON_TYPE, body: JSON.stringify({ errorCode, message }) };
}

function parseJson(body: string | undefined): unknown {
  try {
    return body ? (JSON.parse(body) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** `metadata.<k>=<v>` query parameters as `{ k: v }`. */
function metadataOf(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of query) if (name.startsWith('metadata.')) out[name.slice('metadata.'.length)] = value;
  return out;
}
