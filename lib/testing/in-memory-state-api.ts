import { InMemoryRequest } from './in-memory.adapter';
import { InMemoryStateStore, StateWrite, StoreError } from './in-memory-state.store';

/** An HTTP answer of the in-memory sidecar. */
export interface SidecarAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** daprd's error body. */
export function failure(status: number, errorCode: string, message: string): SidecarAnswer {
  return { status, headers: JSON_TYPE, body: JSON.stringify({ errorCode, message }) };
}

export function parseJson(body: string | undefined): unknown {
  try {
    return body ? (JSON.parse(body) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The state half of daprd v1.18's HTTP API over one `InMemoryStateStore`: the answers and their
 * wording (`failed saving state in state store <name>: …`), the status daprd gives each refusal
 * (409 for an ETag mismatch, 400 for an ETag the store cannot read, 500 for a store failure and for
 * every refused transaction), and the request checks daprd makes before the store sees anything
 * (400 `ERR_MALFORMED_REQUEST` for a body it cannot decode: metadata values and ETags are strings).
 */
export class InMemoryStateApi {
  constructor(
    private readonly name: string,
    private readonly store: InMemoryStateStore,
  ) {}

  save(r: InMemoryRequest): SidecarAnswer {
    const items = parseJson(r.body);
    if (!Array.isArray(items)) return failure(400, 'ERR_MALFORMED_REQUEST', 'the state save body is not an array');
    const writes: StateWrite[] = [];
    for (const item of items as Array<Record<string, unknown>>) {
      if (typeof item?.key !== 'string' || item.key === '') {
        return failure(400, 'ERR_MALFORMED_REQUEST', '"key" is a required field');
      }
      const write = writeOf(item.key, item, true, 'SetRequest');
      if (typeof write === 'string') return failure(400, 'ERR_MALFORMED_REQUEST', write);
      writes.push(write);
    }
    return this.run(() => this.store.save(writes), 'ERR_STATE_SAVE', `failed saving state in state store ${this.name}`);
  }

  get(key: string): SidecarAnswer {
    const entry = this.store.get(key);
    if (!entry) return { status: 204 };
    return { status: 200, headers: { ...JSON_TYPE, etag: entry.etag }, body: entry.json };
  }

  delete(key: string, r: InMemoryRequest): SidecarAnswer {
    const write: StateWrite = {
      key,
      etag: r.headers['if-match'],
      concurrency: r.query.get('concurrency') ?? undefined,
    };
    return this.run(() => this.store.delete(write), 'ERR_STATE_DELETE', `failed deleting state with key ${key}`);
  }

  bulkGet(r: InMemoryRequest): SidecarAnswer {
    const body = parseJson(r.body) as { keys?: unknown } | undefined;
    if (!body || !Array.isArray(body.keys)) return failure(400, 'ERR_MALFORMED_REQUEST', 'the bulk body has no "keys"');
    const items = (body.keys as unknown[]).map((key) => {
      const entry = this.store.get(String(key));
      return entry ? { key, data: JSON.parse(entry.json) as unknown, etag: entry.etag } : { key };
    });
    return { status: 200, headers: JSON_TYPE, body: JSON.stringify(items) };
  }

  transaction(r: InMemoryRequest): SidecarAnswer {
    const body = parseJson(r.body) as { operations?: unknown } | undefined;
    if (!body || !Array.isArray(body.operations)) {
      return failure(400, 'ERR_MALFORMED_REQUEST', 'the transaction body has no "operations"');
    }
    const writes: StateWrite[] = [];
    for (const op of body.operations as Array<{ operation?: string; request?: Record<string, unknown> }>) {
      const request = op?.request ?? {};
      const write = writeOf(String(request.key), request, op?.operation === 'upsert', 'TransactionalStateOperation');
      if (typeof write === 'string') return failure(400, 'ERR_MALFORMED_REQUEST', write);
      writes.push(write);
    }
    return this.run(
      () => this.store.transaction(writes),
      'ERR_STATE_TRANSACTION',
      'error while executing state transaction',
      500,
    );
  }

  /** A write, or daprd's answer to a refused one. */
  private run(write: () => void, errorCode: string, what: string, status?: number): SidecarAnswer {
    try {
      write();
      return { status: 204 };
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      const refused = status ?? (error.etag === 'mismatch' ? 409 : error.etag === 'invalid' ? 400 : 500);
      return failure(refused, errorCode, `${what}: ${error.message}`);
    }
  }
}

/**
 * One save item or transaction request as a `StateWrite` (`upsert`: it carries a value), or the
 * decoding error daprd answers 400 with (its JSON decoder takes only strings there).
 */
function writeOf(key: string, item: Record<string, unknown>, upsert: boolean, type: string): StateWrite | string {
  const options = (item.options ?? {}) as { concurrency?: string };
  const metadata = (item.metadata ?? {}) as Record<string, unknown>;
  for (const value of Object.values(metadata)) {
    if (typeof value !== 'string')
      return `json: cannot unmarshal ${goType(value)} into Go struct field ${type}.metadata of type string`;
  }
  if (item.etag !== undefined && item.etag !== null && typeof item.etag !== 'string') {
    return `json: cannot unmarshal ${goType(item.etag)} into Go struct field ${type}.etag of type string`;
  }
  const write: StateWrite = { key, concurrency: options.concurrency };
  if (typeof item.etag === 'string') write.etag = item.etag;
  if (upsert) write.json = JSON.stringify(item.value ?? null);
  const ttl = metadata.ttlInSeconds as string | undefined;
  if (ttl !== undefined && ttl !== '') write.ttl = ttl;
  return write;
}

function goType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}
