import { ResolvedBackoff } from '../common/backoff';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { BackoffOptions } from '../interfaces/backoff-options.interface';
import { renamedOption } from '../options/deprecated-options';
import { resolveBackoff } from '../options/resolve-backoff';
import { MAX_TIMER_MS, nonNegativeMs, object, positiveInt, positiveMs, SERVICE_NAME } from '../options/validators';
import { RepublishSource } from './republish-source.interface';

/** Options of one republisher (`KugelCommsModule.forRepublisher`, `EventRepublishers.register`). */
export interface RepublisherOptions {
  /** Where the undelivered events are (the app's database). */
  source: RepublishSource;
  /** Time between two passes, in milliseconds. @default 60000 */
  intervalMs?: number;
  /**
   * An event is republished only when its last publish attempt is older than this: its consumers
   * may still be acknowledging it. @default 60000
   */
  minAgeMs?: number;
  /** At most this many events per pass. @default 100 */
  batchSize?: number;
  /** At most this many publishes in flight at once. @default 4 */
  concurrency?: number;
  /**
   * After a pass with failures (a publish failed, the source failed, a breaker was open), the wait
   * before the next pass: after n failing passes in a row, `min(maxDelayMs, initialDelayMs ×
   * multiplier^(n−1))` minus up to `jitter` of it. A clean pass goes back to `intervalMs`.
   * `initialDelayMs` is at least `intervalMs`.
   * @default { initialDelayMs: 2 × intervalMs, maxDelayMs: 5 × intervalMs, multiplier: 2, jitter: 0.2 }
   */
  backoff?: BackoffOptions;
  /** @deprecated Use `backoff.maxDelayMs` (same value); accepted, with a warning at boot, until the next minor version. */
  maxBackoffMs?: number;
  /** Health: `down` when the oldest undelivered event is older than this. @default 900000 */
  maxUndeliveredAgeMs?: number;
  /** On shutdown, how long to wait for a pass in flight before abandoning it. @default 5000 */
  shutdownTimeoutMs?: number;
  /** The first pass, this long after the application has started. @default intervalMs */
  firstPassAfterMs?: number;
  /**
   * One pass at a time across every replica of the service: each pass first takes a lease in this
   * Dapr state store (shared by the replicas), renewed while the pass runs; a replica that finds it
   * held skips its pass. Without it every replica runs its own passes, and an event still
   * undelivered is republished once per replica. `leaseSec` (30) is in seconds, as it goes to
   * daprd (`ttlInSeconds` of the lease record); it must outlast three sidecar writes; a replica
   * that dies mid-pass holds it at most that long.
   */
  lease?: { store: string; leaseSec?: number };
}

/** A republisher's options with every default filled in. @internal */
export interface ResolvedRepublisherOptions {
  name: string;
  source: RepublishSource;
  intervalMs: number;
  minAgeMs: number;
  batchSize: number;
  concurrency: number;
  backoff: ResolvedBackoff;
  maxUndeliveredAgeMs: number;
  shutdownTimeoutMs: number;
  firstPassAfterMs: number;
  lease?: { store: string; leaseMs: number };
}

export const REPUBLISHER_DEFAULTS = {
  intervalMs: 60_000,
  minAgeMs: 60_000,
  batchSize: 100,
  concurrency: 4,
  maxUndeliveredAgeMs: 15 * 60_000,
  shutdownTimeoutMs: 5_000,
} as const;

/** Fills in the defaults and checks every value; a bad one is an `InvalidOptionsError` naming it. @internal */
export function resolveRepublisherOptions(name: unknown, options: RepublisherOptions): ResolvedRepublisherOptions {
  if (typeof name !== 'string' || !SERVICE_NAME.test(name)) {
    throw new InvalidOptionsError('republisher.name', name, 'must be letters, digits, ".", "_" or "-"');
  }
  const at = (option: string) => `republishers.${name}.${option}`;
  object(at('options'), options);
  const source = options.source as Partial<RepublishSource> | undefined;
  for (const method of ['findUndelivered', 'markPublished', 'markFailed'] as const) {
    if (typeof source?.[method] !== 'function') {
      throw new InvalidOptionsError(at('source'), typeof source, `must implement ${method}() (RepublishSource)`);
    }
  }
  const d = REPUBLISHER_DEFAULTS;
  const intervalMs = positiveMs(at('intervalMs'), options.intervalMs ?? d.intervalMs);
  const backoff = object(at('backoff'), options.backoff ?? {});
  const maxDelayMs = positiveMs(
    at('backoff.maxDelayMs'),
    renamedOption(at('maxBackoffMs'), options.maxBackoffMs, at('backoff.maxDelayMs'), backoff.maxDelayMs) ??
      Math.min(5 * intervalMs, MAX_TIMER_MS),
  );
  const resolved: ResolvedRepublisherOptions = {
    name,
    source: options.source,
    intervalMs,
    minAgeMs: nonNegativeMs(at('minAgeMs'), options.minAgeMs ?? d.minAgeMs),
    batchSize: positiveInt(at('batchSize'), options.batchSize ?? d.batchSize),
    concurrency: positiveInt(at('concurrency'), options.concurrency ?? d.concurrency),
    // The first failing pass waits two intervals (not more than the largest step), as a doubling
    // from the clean interval would.
    backoff: resolveBackoff(
      at('backoff'),
      { ...backoff, maxDelayMs },
      {
        initialDelayMs: Math.min(2 * intervalMs, maxDelayMs),
        maxDelayMs,
        multiplier: 2,
        jitter: 0.2,
      },
    ),
    maxUndeliveredAgeMs: positiveMs(at('maxUndeliveredAgeMs'), options.maxUndeliveredAgeMs ?? d.maxUndeliveredAgeMs),
    shutdownTimeoutMs: nonNegativeMs(at('shutdownTimeoutMs'), options.shutdownTimeoutMs ?? d.shutdownTimeoutMs),
    firstPassAfterMs: nonNegativeMs(at('firstPassAfterMs'), options.firstPassAfterMs ?? intervalMs),
  };
  if (options.lease !== undefined) {
    object(at('lease'), options.lease);
    const store = options.lease.store;
    if (typeof store !== 'string' || !SERVICE_NAME.test(store)) {
      throw new InvalidOptionsError(at('lease.store'), store, 'must be a Dapr component name');
    }
    resolved.lease = { store, leaseMs: positiveInt(at('lease.leaseSec'), options.lease.leaseSec ?? 30) * 1000 };
  }
  // A failing pass is never followed sooner than a clean one.
  if (resolved.backoff.initialDelayMs < intervalMs) {
    const option = resolved.backoff.initialDelayMs === maxDelayMs ? 'backoff.maxDelayMs' : 'backoff.initialDelayMs';
    throw new InvalidOptionsError(at(option), resolved.backoff.initialDelayMs, `must be ≥ intervalMs (${intervalMs})`);
  }
  return resolved;
}
