import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { stopSignalSource } from '../common/abandonable';
import { KUGEL_COMMS_RESOLVED_OPTIONS, KUGEL_COMMS_SENDER } from '../kugel-comms.constants';
import { CallEvents } from '../transport/call-events';
import { ResolvedDaprOptions, ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { nonNegativeMs, probeTimeoutMs } from '../options/validators';
import { createTransport, Transport } from '../transport/transport';
import { TransportSender } from '../transport/transport-sender';
import {
  BulkPublishEntry,
  BulkPublishOptions,
  BulkStateOptions,
  DeleteStateOptions,
  OutboxOptions,
  GetStateOptions,
  PublishOptions,
  SaveStateOptions,
  StateTransactionOperation,
} from './dapr.interfaces';
import { DaprDetailedClient } from './dapr-detailed.client';
import { isStateConflict } from './dapr-requests';
import { ComponentKind, SidecarCalls } from './sidecar-calls';

/** How long a sidecar health probe waits by default (`checkSidecarHealth`, `isSidecarHealthy`). */
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/**
 * The Dapr sidecar over its HTTP API v1.0: pub/sub and state.
 * `publishEvent`/`saveState`/`deleteState`/`executeStateTransaction` resolve to `boolean`,
 * `getState` to the value or `null`, `getBulkState` to the values or `null`; nothing rejects for
 * a sidecar failure (failures are logged with context). `detailed` has the same operations with
 * their whole outcome (`DaprResult`: the ETag, the failure's `code` and `status`).
 *
 * Each component has its own circuit breaker (`state:<store>`, `pubsub:<pubsub>`), also installed
 * as an axios interceptor on the sidecar client: one logical operation counts once, however many
 * retries it took; connection errors, timeouts and 5xx are failures, 4xx and 204 are not.
 */
@Injectable()
export class DaprClientHelper implements OnModuleInit, OnApplicationShutdown {
  /** The operations with their whole outcome: `DaprResult` instead of `boolean` / `null`. */
  readonly detailed: DaprDetailedClient;
  private readonly logger = new Logger(DaprClientHelper.name);
  private readonly dapr: ResolvedDaprOptions;
  private readonly transport: Transport;
  private readonly calls: SidecarCalls;
  /** Where calls go, for log lines. */
  private readonly endpoint: string;
  /** Aborted on shutdown: the start-up wait for the sidecar stops at once (its probe, its pause). */
  private readonly stopping = stopSignalSource();

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions,
    events: CallEvents,
    private readonly breakers: CircuitBreakerRegistry,
    @Optional() @Inject(KUGEL_COMMS_SENDER) sender?: TransportSender,
  ) {
    this.dapr = options.dapr;
    this.transport = createTransport({
      ...this.dapr,
      client: 'dapr',
      baseUrl: this.dapr.httpEndpoint,
      headers: this.dapr.apiToken ? { 'dapr-api-token': this.dapr.apiToken } : undefined,
      breakerGuard: true,
      parsing: 'lenient',
      // The only response header the helper reads is a state entry's ETag. daprd answers a state read
      // with five (Content-Type, Etag, Traceparent, Date, Content-Length), and axios' per-header
      // work on the other four made getState slower than the official client (CHANGELOG.md, "Performance").
      // A header the helper starts reading must be added here.
      responseHeaders: ['etag'],
      // A write whose ETag or first-write condition did not hold is the caller's lost race, whatever
      // status the store gives it (PostgreSQL: 500 "no item was updated"): it never opens the breaker.
      isCallerError: isStateConflict,
      logFailures: false,
      propagateTrace: options.tracing.propagate,
      events,
      logger: new Logger(`${DaprClientHelper.name}:http`),
      send: sender?.sidecarAdapter(),
    });
    this.calls = new SidecarCalls(
      this.transport.runner,
      (kind, component) => this.breakerFor(kind, component),
      this.logger,
    );
    this.detailed = new DaprDetailedClient(this.calls);
    this.endpoint = sender ? sender.label : this.dapr.httpEndpoint;
  }

  /**
   * Starts waiting for the sidecar in the background; boot is not blocked. The wait ends after
   * `dapr.waitForSidecarMs` (each probe 1 s at most) or on shutdown, whichever comes first.
   */
  onModuleInit(): void {
    if (this.dapr.waitForSidecarMs > 0) this.calls.holdUntil(this.waitForSidecar(this.dapr.waitForSidecarMs));
  }

  /**
   * Ends the start-up wait if it still runs (its probe is aborted, its pause cleared: no timer or
   * socket of it outlives the shutdown), cancels the calls in flight (`ERR_CANCELED`) and answers
   * later ones `ERR_CLIENT_CLOSED` without sending them, and closes the sidecar client's sockets.
   */
  onApplicationShutdown(): void {
    this.stopping.abort();
    this.calls.stop();
    this.transport.destroy();
  }

  /** Publishes `data` to `topic` of `pubsub`; `true` when the sidecar accepted it (204). */
  async publishEvent(pubsub: string, topic: string, data: unknown, options?: PublishOptions): Promise<boolean> {
    return (await this.detailed.publishEvent(pubsub, topic, data, options)).ok;
  }

  /**
   * Publishes many events in one call; `true` when every entry was published. Which entries failed
   * (to keep them for a republish): `detailed.publishBulk`.
   */
  async publishBulk<T = unknown>(
    pubsub: string,
    topic: string,
    entries: BulkPublishEntry<T>[],
    options?: BulkPublishOptions,
  ): Promise<boolean> {
    return (await this.detailed.publishBulk(pubsub, topic, entries, options)).ok;
  }

  /**
   * Saves `value` under `key` and publishes it (or `options.event`) in one transaction on a store
   * configured for Dapr's outbox; `true` when the sidecar committed it.
   */
  async saveStateAndPublish(store: string, key: string, value: unknown, options?: OutboxOptions): Promise<boolean> {
    return (await this.detailed.saveStateAndPublish(store, key, value, options)).ok;
  }

  /**
   * Saves `value` under `key`; `true` when saved, `false` on any failure (an ETag conflict
   * included). A save with `etag` or `first-write` is not sent again after it may have reached the
   * sidecar: `false` may then mean it happened (`detailed.saveState` tells: `ERR_UNKNOWN_OUTCOME`;
   * read the key back).
   */
  async saveState(store: string, key: string, value: unknown, options?: SaveStateOptions): Promise<boolean> {
    return (await this.detailed.saveState(store, key, value, options)).ok;
  }

  /** The stored value, or `null` when the key does not exist or the store could not be read. */
  async getState<T = unknown>(store: string, key: string, options?: GetStateOptions): Promise<T | null> {
    const result = await this.detailed.getState<T>(store, key, options);
    return result.ok ? result.value : null;
  }

  /** Deletes `key` (also `true` when it did not exist); `If-Match` when `etag` is given. */
  async deleteState(store: string, key: string, options?: DeleteStateOptions): Promise<boolean> {
    return (await this.detailed.deleteState(store, key, options)).ok;
  }

  /**
   * Values of `keys` as `{ key: value }` (keys that do not exist are left out), or `null` when the
   * store could not be read.
   */
  async getBulkState<T = unknown>(
    store: string,
    keys: string[],
    options?: BulkStateOptions,
  ): Promise<Record<string, T> | null> {
    const result = await this.detailed.getBulkState<T>(store, keys, options);
    return result.ok ? result.value : null;
  }

  /**
   * Applies upserts and deletes atomically; `true` when the sidecar committed them. Never sent
   * again after it may have reached the sidecar (`detailed`: `ERR_UNKNOWN_OUTCOME`).
   */
  async executeStateTransaction(
    store: string,
    operations: StateTransactionOperation[],
    metadata?: Record<string, string>,
  ): Promise<boolean> {
    return (await this.detailed.executeStateTransaction(store, operations, metadata)).ok;
  }

  /** `dapr.timeoutMs`: the longest one sidecar call can take. @internal */
  get sidecarTimeoutMs(): number {
    return this.dapr.timeoutMs;
  }

  /** The breaker of a component (`state:<store>` or `pubsub:<pubsub>`). */
  breakerFor(kind: ComponentKind, component: string): CircuitBreaker {
    return this.breakers.get(`${kind}:${component}`, this.dapr.breaker);
  }

  /**
   * Polls `/v1.0/healthz/outbound` until it answers 204 or `timeoutMs` passes (each probe 1 s at
   * most, so it ends by `timeoutMs` + 1 s), or the application shuts down. Resolves `true` when the
   * sidecar is ready, `false` when it gave up (logged at WARN) or shutdown ended it; rejects only
   * with `InvalidOptionsError` for a `timeoutMs` that is not a duration a timer can hold.
   *
   * The sidecar's health probes use the sidecar client's axios instance directly, not the call
   * runner: they are not operations (no breaker, no retry, no `requestCompleted` event).
   */
  async waitForSidecar(timeoutMs = this.dapr.waitForSidecarMs): Promise<boolean> {
    nonNegativeMs('waitForSidecar(timeoutMs)', timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const signal = this.stopping.signal;
    let last = 'no answer';
    while (!signal.aborted) {
      const probe = await this.probe('/v1.0/healthz/outbound', 1000);
      if (probe.healthy) {
        this.logger.log(`sidecar at ${this.endpoint} is ready`);
        return true;
      }
      last = probe.error ?? 'no answer';
      if (Date.now() >= deadline) break;
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
    }
    if (signal.aborted)
      this.logger.warn(`stopped waiting for the sidecar at ${this.endpoint}: the application is shutting down`);
    else this.logger.warn(`sidecar at ${this.endpoint} not ready after ${timeoutMs} ms (${last}); going on without it`);
    return false;
  }

  /**
   * `GET /v1.0/healthz`: whether the sidecar is fully initialised (for health checks). Ends within
   * `timeoutMs`, at once on shutdown. `timeoutMs` is a finite number of ms from 1 up; anything else
   * (0, a negative value, `NaN`, `Infinity`) takes the default, 2000: a probe is never open-ended.
   * Never rejects.
   */
  async checkSidecarHealth(
    timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
  ): Promise<{ healthy: boolean; status?: number; error?: string }> {
    return this.probe('/v1.0/healthz', probeTimeoutMs(timeoutMs, DEFAULT_PROBE_TIMEOUT_MS));
  }

  /**
   * The sidecar's components, name → type (`pubsub.kafka`, `state.redis`, ...), from
   * `GET /v1.0/metadata`; `undefined` when the sidecar cannot say now (unreachable, an error,
   * another shape). Like the probes, not an operation: no breaker, no retry.
   * @internal
   */
  async componentTypes(timeoutMs = 2000): Promise<Map<string, string> | undefined> {
    try {
      const res = await this.transport.axios.get<unknown>('/v1.0/metadata', {
        timeout: timeoutMs,
        validateStatus: (status) => status === 200,
        signal: this.stopping.signal,
      });
      // The sidecar client's axios leaves bodies unparsed (the call runner parses them).
      const body: unknown = typeof res.data === 'string' ? JSON.parse(res.data) : res.data;
      const components = (body as { components?: unknown } | null)?.components;
      if (!Array.isArray(components)) return undefined;
      const types = new Map<string, string>();
      for (const c of components as Array<{ name?: unknown; type?: unknown }>) {
        if (typeof c?.name === 'string' && typeof c.type === 'string') types.set(c.name, c.type);
      }
      return types;
    } catch {
      return undefined;
    }
  }

  /**
   * One probe, on sockets of its own (`Transport.probeAdapter`, no keep-alive): a probe that hangs
   * until its deadline holds none of the sockets the sidecar calls share.
   */
  private async probe(path: string, timeoutMs: number): Promise<{ healthy: boolean; status?: number; error?: string }> {
    try {
      const res = await this.transport.axios.get(path, {
        adapter: this.transport.probeAdapter,
        timeout: timeoutMs,
        validateStatus: () => true,
        signal: this.stopping.signal,
      });
      return res.status === 204 || res.status === 200
        ? { healthy: true, status: res.status }
        : { healthy: false, status: res.status, error: `HTTP ${res.status}` };
    } catch (error) {
      return { healthy: false, error: (error as { code?: string }).code ?? 'unreachable' };
    }
  }
}
