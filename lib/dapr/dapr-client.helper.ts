import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import axios, { AxiosError, AxiosRequestConfig } from 'axios';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { isBrokenCircuitError } from '../errors/broken-circuit.error';
import { encodePathSegment } from '../http/path';
import { CallContext, createTransport, Transport } from '../http/transport';
import { releaseUnsettled } from '../http/service-client';
import { KUGEL_COMMS_OPTIONS } from '../kugel-comms.constants';
import { ResolvedDaprOptions, ResolvedKugelCommsOptions } from '../kugel-comms.defaults';
import { KugelCommsEvents } from '../observability/comms-events';
import {
  BulkStateOptions,
  DaprResult,
  DeleteStateOptions,
  GetStateOptions,
  PublishOptions,
  SaveStateOptions,
  StateEntry,
  StateTransactionOperation,
} from './dapr.interfaces';

type Metadata = Record<string, string | number | boolean> | undefined;

/**
 * The Dapr sidecar over its HTTP API v1.0: pub/sub and state. Non-blocking like the original:
 * `publishEvent`/`saveState`/`deleteState` resolve to `boolean`, `getState` to the value or
 * `null`, and nothing rejects for a sidecar failure (failures are logged with context). The
 * `...Result` variants return `{ ok, value | error }` for callers that must tell an outage from
 * "no such key".
 *
 * Each component has its own circuit breaker (`state:<store>`, `pubsub:<pubsub>`), installed as
 * an axios interceptor on the sidecar client: one logical operation counts once, however many
 * retries it took; connection errors, timeouts and 5xx are failures, 4xx and 204 are not.
 */
@Injectable()
export class DaprClientHelper implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DaprClientHelper.name);
  private readonly dapr: ResolvedDaprOptions;
  private readonly transport: Transport;
  private sidecarReady?: Promise<boolean>;
  private stopped = false;

  constructor(
    @Inject(KUGEL_COMMS_OPTIONS) options: ResolvedKugelCommsOptions,
    events: KugelCommsEvents,
    private readonly breakers: CircuitBreakerRegistry,
  ) {
    this.dapr = options.dapr;
    this.transport = createTransport({
      client: 'dapr',
      baseUrl: this.dapr.httpEndpoint,
      timeoutMs: this.dapr.timeoutMs,
      retries: this.dapr.retries,
      retryDelayMs: options.http.retryDelayMs,
      maxRetryDelayMs: options.http.maxRetryDelayMs,
      maxSockets: options.http.maxSockets,
      idleSocketTimeoutMs: options.http.idleSocketTimeoutMs,
      maxContentLength: options.http.maxContentLength,
      maxBodyLength: options.http.maxBodyLength,
      insecureSkipTlsVerify: false,
      headers: this.dapr.apiToken ? { 'dapr-api-token': this.dapr.apiToken } : undefined,
      // Publish and save are safe to repeat (consumers de-duplicate by event id; a save is an
      // upsert), and a timeout is a failure worth one more try.
      retryNonIdempotentTimeouts: true,
      parse: 'lenient',
      // The only response header the helper reads is a state entry's ETag. daprd answers a state read
      // with five (Content-Type, Etag, Traceparent, Date, Content-Length), and axios' per-header
      // work on the other four made getState slower than the official client (docs/benchmarks.md).
      // A header the helper starts reading must be added here.
      responseHeaders: ['etag'],
      isCallerError: isTransactionConflict,
      logFailures: false,
      propagateTrace: options.tracing.propagate,
      events,
      logger: new Logger(`${DaprClientHelper.name}:http`),
    });
  }

  /** Starts waiting for the sidecar in the background; boot is not blocked. */
  onModuleInit(): void {
    if (this.dapr.waitForSidecarMs > 0) {
      // Once the wait is over (ready or given up), calls stop awaiting it: one await less per call.
      const ready = this.waitForSidecar(this.dapr.waitForSidecarMs);
      this.sidecarReady = ready;
      void ready.finally(() => {
        if (this.sidecarReady === ready) this.sidecarReady = undefined;
      });
    }
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.transport.destroy();
  }

  /**
   * Polls `/v1.0/healthz/outbound` until it answers 204 or `timeoutMs` passes. Resolves `true`
   * when the sidecar is ready, `false` when it gave up (logged at WARN); never rejects.
   */
  async waitForSidecar(timeoutMs = this.dapr.waitForSidecarMs): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (!this.stopped) {
      try {
        const res = await this.transport.axios.get('/v1.0/healthz/outbound', {
          timeout: 1000,
          validateStatus: () => true,
        });
        if (res.status === 204 || res.status === 200) {
          this.logger.log(`sidecar at ${this.dapr.httpEndpoint} is ready`);
          return true;
        }
        last = `HTTP ${res.status}`;
      } catch (error) {
        last = (error as AxiosError).code ?? (error as Error).message;
      }
      if (Date.now() >= deadline) break;
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
    }
    if (!this.stopped)
      this.logger.warn(
        `sidecar at ${this.dapr.httpEndpoint} not ready after ${timeoutMs} ms (${last}); going on without it`,
      );
    return false;
  }

  /** `GET /v1.0/healthz`: whether the sidecar is fully initialised (for health checks). */
  async checkSidecarHealth(timeoutMs = 2000): Promise<{ healthy: boolean; status?: number; error?: string }> {
    try {
      const res = await this.transport.axios.get('/v1.0/healthz', { timeout: timeoutMs, validateStatus: () => true });
      return res.status === 204 || res.status === 200
        ? { healthy: true, status: res.status }
        : { healthy: false, status: res.status, error: `HTTP ${res.status}` };
    } catch (error) {
      return { healthy: false, error: (error as AxiosError).code ?? 'unreachable' };
    }
  }

  /** The breaker of a component (`state:<store>` or `pubsub:<pubsub>`). */
  breakerFor(kind: 'state' | 'pubsub', component: string): CircuitBreaker {
    return this.breakers.get(`${kind}:${component}`, this.dapr.breaker);
  }

  // ---- pub/sub ---------------------------------------------------------------------------------

  /** Publishes `data` to `topic` of `pubsub`; `true` when the sidecar accepted it (204). */
  async publishEvent(pubsub: string, topic: string, data: unknown, options: PublishOptions = {}): Promise<boolean> {
    return (await this.publishEventResult(pubsub, topic, data, options)).ok;
  }

  async publishEventResult(
    pubsub: string,
    topic: string,
    data: unknown,
    options: PublishOptions = {},
  ): Promise<DaprResult<void>> {
    const what = `publish to ${pubsub}/${topic}`;
    return this.run<void>(
      what,
      'pubsub',
      pubsub,
      () => {
        const metadata: Record<string, string | number | boolean> = { ...options.metadata };
        if (options.rawPayload) metadata.rawPayload = 'true';
        const contentType =
          options.contentType ?? (options.cloudEvent ? 'application/cloudevents+json' : 'application/json');
        return {
          method: 'POST',
          url: `/v1.0/publish/${encodePathSegment(pubsub)}/${encodePathSegment(topic)}${query(undefined, metadata)}`,
          data: serialise(data, 'event data'),
          headers: { 'Content-Type': contentType, ...traceHeaders(options) },
          route: '/v1.0/publish/:pubsub/:topic',
        };
      },
      () => undefined,
    );
  }

  // ---- state -----------------------------------------------------------------------------------

  /** Saves `value` under `key`; `true` when saved, `false` on any failure (an ETag conflict included). */
  async saveState(store: string, key: string, value: unknown, options: SaveStateOptions = {}): Promise<boolean> {
    return (await this.saveStateResult(store, key, value, options)).ok;
  }

  async saveStateResult(
    store: string,
    key: string,
    value: unknown,
    options: SaveStateOptions = {},
  ): Promise<DaprResult<void>> {
    return this.run<void>(
      `save state ${store}/${key}`,
      'state',
      store,
      () => {
        checkKey(key);
        checkValue(value, 'state value');
        const item: Record<string, unknown> = { key, value };
        if (options.etag !== undefined) item.etag = options.etag;
        if (options.metadata) item.metadata = stringMap(options.metadata);
        const opts = stateOptions(options);
        if (opts) item.options = opts;
        return {
          method: 'POST',
          url: `/v1.0/state/${encodePathSegment(store)}`,
          data: serialise([item], 'state value'),
          headers: { 'Content-Type': 'application/json' },
          route: '/v1.0/state/:store',
        };
      },
      () => undefined,
    );
  }

  /** The stored value, or `null` when the key does not exist or the store could not be read. */
  async getState<T = unknown>(store: string, key: string, options: GetStateOptions = {}): Promise<T | null> {
    const result = await this.getStateResult<T>(store, key, options);
    return result.ok ? result.value.value : null;
  }

  /**
   * The value and its ETag: `{ ok: true, value: { value: null } }` when the key does not exist,
   * `{ ok: false, error }` when the store could not be read — the two are never confused.
   */
  async getStateResult<T = unknown>(
    store: string,
    key: string,
    options: GetStateOptions = {},
  ): Promise<DaprResult<StateEntry<T | null>>> {
    return this.run<StateEntry<T | null>>(
      `get state ${store}/${key}`,
      'state',
      store,
      () => {
        const segment = checkKey(key);
        return {
          method: 'GET',
          url: `/v1.0/state/${encodePathSegment(store)}/${segment}${query(options.consistency ? { consistency: options.consistency } : undefined, options.metadata)}`,
          route: '/v1.0/state/:store/:key',
        };
      },
      (status, body, etag) => (status === 204 || body === undefined ? { value: null } : { value: body as T, etag }),
    );
  }

  /** Deletes `key` (also `true` when it did not exist); `If-Match` when `etag` is given. */
  async deleteState(store: string, key: string, options: DeleteStateOptions = {}): Promise<boolean> {
    return (await this.deleteStateResult(store, key, options)).ok;
  }

  async deleteStateResult(store: string, key: string, options: DeleteStateOptions = {}): Promise<DaprResult<void>> {
    return this.run<void>(
      `delete state ${store}/${key}`,
      'state',
      store,
      () => {
        const segment = checkKey(key);
        const q: Record<string, string> = {};
        if (options.consistency) q.consistency = options.consistency;
        if (options.concurrency) q.concurrency = options.concurrency;
        return {
          method: 'DELETE',
          url: `/v1.0/state/${encodePathSegment(store)}/${segment}${query(q, options.metadata)}`,
          headers: options.etag !== undefined ? { 'If-Match': checkHeaderValue(options.etag, 'etag') } : undefined,
          route: '/v1.0/state/:store/:key',
        };
      },
      () => undefined,
    );
  }

  /**
   * Values of `keys` as `{ key: value }` (keys that do not exist are left out), or `null` when the
   * store could not be read.
   */
  async getBulkState<T = unknown>(
    store: string,
    keys: string[],
    options: BulkStateOptions = {},
  ): Promise<Record<string, T> | null> {
    const result = await this.getBulkStateResult<T>(store, keys, options);
    return result.ok ? result.value : null;
  }

  async getBulkStateResult<T = unknown>(
    store: string,
    keys: string[],
    options: BulkStateOptions = {},
  ): Promise<DaprResult<Record<string, T>>> {
    return this.run<Record<string, T>>(
      `bulk get state ${store} (${Array.isArray(keys) ? keys.length : 0} keys)`,
      'state',
      store,
      () => {
        if (!Array.isArray(keys)) throw new TypeError('keys must be an array of strings');
        keys.forEach(checkKey);
        const body: Record<string, unknown> = { keys };
        if (options.parallelism !== undefined) body.parallelism = options.parallelism;
        return {
          method: 'POST',
          url: `/v1.0/state/${encodePathSegment(store)}/bulk${query(undefined, options.metadata)}`,
          data: serialise(body, 'bulk request'),
          headers: { 'Content-Type': 'application/json' },
          route: '/v1.0/state/:store/bulk',
        };
      },
      (_status, body) => {
        const out: Record<string, T> = {};
        if (!Array.isArray(body)) throw new TypeError('bulk state answer is not an array');
        for (const item of body as Array<{ key?: string; data?: unknown; error?: string }>) {
          if (item && typeof item.key === 'string' && item.data !== undefined && !item.error)
            out[item.key] = item.data as T;
        }
        return out;
      },
    );
  }

  /** Applies upserts and deletes atomically; `true` when the sidecar committed them. */
  async executeStateTransaction(
    store: string,
    operations: StateTransactionOperation[],
    metadata?: Record<string, string>,
  ): Promise<boolean> {
    return (await this.executeStateTransactionResult(store, operations, metadata)).ok;
  }

  async executeStateTransactionResult(
    store: string,
    operations: StateTransactionOperation[],
    metadata?: Record<string, string>,
  ): Promise<DaprResult<void>> {
    return this.run<void>(
      `state transaction ${store} (${Array.isArray(operations) ? operations.length : 0} operations)`,
      'state',
      store,
      () => {
        if (!Array.isArray(operations) || operations.length === 0)
          throw new TypeError('operations must be a non-empty array');
        for (const op of operations) {
          if (!op || (op.operation !== 'upsert' && op.operation !== 'delete'))
            throw new TypeError('each operation must be "upsert" or "delete"');
          checkKey(op.request?.key);
          if (op.operation === 'upsert') checkValue(op.request.value, `value of "${op.request.key}"`);
        }
        return {
          method: 'POST',
          url: `/v1.0/state/${encodePathSegment(store)}/transaction`,
          data: serialise(metadata ? { operations, metadata } : { operations }, 'transaction'),
          headers: { 'Content-Type': 'application/json' },
          route: '/v1.0/state/:store/transaction',
        };
      },
      () => undefined,
    );
  }

  // ---- machinery -------------------------------------------------------------------------------

  /**
   * Runs one logical operation: builds the request (bad input → `ERR_BAD_REQUEST_INPUT`, nothing
   * sent), waits (bounded) for the sidecar at start-up, sends it through the component's breaker,
   * and maps every outcome to a `DaprResult`. Never rejects.
   */
  private async run<T>(
    what: string,
    kind: 'state' | 'pubsub',
    component: string,
    build: () => { method: string; url: string; data?: string; headers?: Record<string, string>; route: string },
    read: (status: number, body: unknown, etag?: string) => T,
  ): Promise<DaprResult<T>> {
    let request: ReturnType<typeof build>;
    try {
      if (typeof component !== 'string' || component.length === 0)
        throw new TypeError(`${kind} component name must be a non-empty string`);
      request = build();
    } catch (error) {
      const message = `${what}: bad input: ${(error as Error).message} (nothing was sent)`;
      this.logger.error(message);
      return { ok: false, error: message, code: 'ERR_BAD_REQUEST_INPUT' };
    }
    if (this.sidecarReady) await this.sidecarReady;
    const breaker = this.breakerFor(kind, component);
    const config: AxiosRequestConfig = {
      method: request.method,
      url: request.url,
      data: request.data,
      headers: request.headers,
      kugel: new CallContext(request.route, true, breaker),
    };
    try {
      const res = await this.transport.axios.request(config);
      const etag = typeof res.headers?.etag === 'string' ? res.headers.etag : undefined;
      return { ok: true, value: read(res.status, res.data, etag), etag };
    } catch (error) {
      releaseUnsettled(config);
      const failure = describeFailure(what, error, config.kugel?.attempts ?? 0);
      if (failure.code === 'ERR_CIRCUIT_OPEN') {
        // The state change was logged at WARN; one line per refused call would flood the log.
        this.logger.debug(failure.error);
      } else if (failure.status !== undefined && (failure.status < 500 || isConflictAnswer(error))) {
        // The sidecar is fine; the request was refused (bad name, stale ETag, missing token).
        this.logger.warn(failure.error);
      } else {
        this.logger.error(failure.error);
      }
      return failure;
    }
  }
}

/**
 * daprd answers a state transaction whose ETag does not match with 500 `ERR_STATE_TRANSACTION`
 * (save and delete answer 409). That is a stale read by one caller, not a broken store, so it must
 * not count toward the breaker. The store's own words tell the two apart: the in-memory store says
 * "etag mismatch", the Redis store's transaction script fails its version check with
 * "user_script:N: failed to set key" / "failed to delete". A store that is down answers with a
 * connection error instead, which still counts.
 */
const TRANSACTION_CONFLICT = /etag mismatch|user_script:\d+: failed to (set|delete)/i;

function isConflictAnswer(error: unknown): boolean {
  return (
    axios.isAxiosError(error) &&
    error.response !== undefined &&
    isTransactionConflict(error.response.status, error.response.data)
  );
}

function isTransactionConflict(status: number, body: unknown): boolean {
  if (status !== 500 || typeof body !== 'object' || body === null) return false;
  const { errorCode, message } = body as { errorCode?: unknown; message?: unknown };
  return errorCode === 'ERR_STATE_TRANSACTION' && typeof message === 'string' && TRANSACTION_CONFLICT.test(message);
}

function describeFailure(what: string, error: unknown, attempts: number): DaprResult<never> & { ok: false } {
  if (isBrokenCircuitError(error)) {
    return { ok: false, error: `${what}: circuit "${error.breaker}" is open (nothing was sent)`, code: error.code };
  }
  if (axios.isAxiosError(error)) {
    if (error.response) {
      const body = error.response.data as { errorCode?: string; message?: string } | string | undefined;
      const code = typeof body === 'object' && body ? body.errorCode : undefined;
      const detail = typeof body === 'object' && body?.message ? `: ${String(body.message).slice(0, 300)}` : '';
      return {
        ok: false,
        status: error.response.status,
        code,
        error: `${what}: sidecar answered HTTP ${error.response.status}${code ? ` ${code}` : ''}${detail} (${attempts} attempt${attempts === 1 ? '' : 's'})`,
      };
    }
    return {
      ok: false,
      code: error.code,
      error: `${what}: ${error.code ?? 'network error'} (${error.message}) after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    };
  }
  return { ok: false, error: `${what}: ${(error as Error)?.message ?? String(error)}` };
}

/** Checks a state key and returns it encoded as one path segment. */
function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('state key must be a non-empty string');
  if (key.includes('||')) throw new TypeError('state key must not contain "||" (Dapr reserves it)');
  return encodePathSegment(key);
}

/** The caller's `traceparent`/`tracestate` for a publish, checked for CR, LF and NUL only. */
function traceHeaders(options: PublishOptions): Record<string, string> {
  const out: Record<string, string> = {};
  if (options.traceparent !== undefined) out.traceparent = checkHeaderValue(options.traceparent, 'traceparent');
  if (options.tracestate !== undefined) out.tracestate = checkHeaderValue(options.tracestate, 'tracestate');
  return out;
}

/**
 * A value JSON cannot represent at the top level (`undefined`, a function, a symbol) would be
 * dropped from the `[{ key, value }]` body without an error, and the sidecar would store an empty
 * value under the key: refuse it (nested ones are JSON's usual business).
 */
function checkValue(value: unknown, what: string): void {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`${what} of type ${typeof value} is not JSON-serialisable`);
  }
}

function checkHeaderValue(value: string, name: string): string {
  if (typeof value !== 'string' || /[^\t\x20-\x7e\x80-\xff]/.test(value))
    throw new TypeError(`${name} must be a string without CR, LF, NUL or characters HTTP cannot carry`);
  return value;
}

function serialise(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${what} is not JSON-serialisable: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  if (json === undefined) throw new TypeError(`${what} of type ${typeof value} is not JSON-serialisable`);
  return json;
}

function stringMap(metadata: Record<string, string | number | boolean>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) out[k] = String(v);
  return out;
}

function stateOptions(o: SaveStateOptions): Record<string, string> | undefined {
  if (!o.concurrency && !o.consistency) return undefined;
  const out: Record<string, string> = {};
  if (o.concurrency) out.concurrency = o.concurrency;
  if (o.consistency) out.consistency = o.consistency;
  return out;
}

/** `?a=b&metadata.k=v`, every name and value percent-encoded. */
function query(plain: Record<string, string> | undefined, metadata: Metadata): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(plain ?? {})) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof k !== 'string' || k.length === 0) throw new TypeError('metadata keys must be non-empty strings');
    if (v === undefined || v === null) continue;
    parts.push(`metadata.${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
