import { EventSource } from '../common/event';
import { BrokenCircuitError } from '../errors/broken-circuit.error';
import { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface';
import { resolveBreaker } from '../options/resolve-transport';
import { CircuitState } from './circuit-state';

/**
 * Why a breaker changed state: `failure-threshold` (closed → open), `reset-timeout`
 * (open → half-open), `trial-succeeded` (half-open → closed), `trial-failed` (half-open → open),
 * `manual` (`isolate()` or `reset()`).
 */
export type CircuitStateChangeReason =
  'failure-threshold' | 'reset-timeout' | 'trial-succeeded' | 'trial-failed' | 'manual';

/** What a state change event carries. */
export interface CircuitStateChange {
  /** Name of the breaker (`http:<service>`, `state:<store>`, `pubsub:<pubsub>`). */
  breaker: string;
  from: CircuitState;
  to: CircuitState;
  reason: CircuitStateChangeReason;
  /** Consecutive failures when the change happened. */
  failures: number;
  at: number;
}

/** A point-in-time view of a breaker, for health reports and metrics. */
export interface CircuitSnapshot {
  name: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** Epoch ms when it last opened (open and half-open only). */
  openedAt?: number;
  /** Epoch ms when an open breaker will let a trial through (none while isolated). */
  nextAttemptAt?: number;
  /** Trial calls in flight (half-open only). */
  trialsInFlight: number;
}

/**
 * A permit for one logical call. Exactly one of `success()`, `failure()` or `release()` counts;
 * later calls are ignored, so an outcome can never be recorded twice.
 */
export interface CircuitPermit {
  /** The call succeeded (or got an answer that is not a failure, e.g. a 4xx). */
  success(): void;
  /** The call failed (connection error, timeout, 5xx). */
  failure(): void;
  /** The call ended with no verdict (cancelled by the caller): frees a trial slot only. */
  release(): void;
}

type InternalState =
  | { kind: CircuitState.Closed; failures: number }
  /** `isolated`: held open by `isolate()`, no reset timeout. */
  | { kind: CircuitState.Open; failures: number; openedAt: number; isolated?: true }
  | { kind: CircuitState.HalfOpen; failures: number; openedAt: number; inFlight: number };

/**
 * A consecutive-failure circuit breaker. Plain TypeScript: no Nest, no axios, no logging — the
 * interceptor and the Nest services subscribe to `onStateChange` and log.
 *
 * - closed → open after `failureThreshold` consecutive failures; a success resets the count;
 * - open rejects at once; after `resetTimeoutMs` it becomes half-open (checked lazily, when the
 *   state is read or a call asks for a permit);
 * - half-open lets at most `halfOpenMaxCalls` trials through at a time, the rest are rejected;
 *   a trial success closes it, a trial failure re-opens it and restarts the timer.
 *
 * Written here rather than taken from a library because its semantics (lazy half-open visible to
 * health probes, a permit per logical call that survives retries, per-component instances) are
 * the product's own; the shape follows cockatiel's breaker.
 */
export class CircuitBreaker {
  readonly onStateChange = new EventSource<CircuitStateChange>();
  private readonly opts: Required<CircuitBreakerOptions>;
  private current: InternalState = { kind: CircuitState.Closed, failures: 0 };

  constructor(
    readonly name: string,
    options: CircuitBreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.opts = resolveBreaker(`breaker "${name}"`, options);
  }

  get options(): Readonly<Required<CircuitBreakerOptions>> {
    return this.opts;
  }

  /** The current state (an open breaker whose reset timeout passed reads as half-open). */
  get state(): CircuitState {
    this.advance();
    return this.current.kind;
  }

  snapshot(): CircuitSnapshot {
    this.advance();
    const s = this.current;
    return {
      name: this.name,
      state: s.kind,
      consecutiveFailures: s.failures,
      openedAt: s.kind === CircuitState.Closed ? undefined : s.openedAt,
      nextAttemptAt: s.kind === CircuitState.Open && !s.isolated ? s.openedAt + this.opts.resetTimeoutMs : undefined,
      trialsInFlight: s.kind === CircuitState.HalfOpen ? s.inFlight : 0,
    };
  }

  /** Epoch ms when an open breaker lets the next trial through, or undefined when not open. */
  get retryAt(): number | undefined {
    return this.snapshot().nextAttemptAt;
  }

  /**
   * Asks to make one call. Returns a permit, or `undefined` when the call must be rejected
   * (open, or half-open with every trial slot taken).
   */
  tryAcquire(): CircuitPermit | undefined {
    this.advance();
    const s = this.current;
    if (s.kind === CircuitState.Closed) return this.closedPermit();
    if (s.kind === CircuitState.Open) return undefined;
    if (s.inFlight >= this.opts.halfOpenMaxCalls) return undefined;
    s.inFlight += 1;
    return this.trialPermit(s);
  }

  /**
   * Holds the breaker open: every call is refused, and no reset timeout lets a trial through,
   * until `reset()`. For an operator's kill switch, and for tests (`kugel-comms/testing`).
   */
  isolate(): void {
    const s = this.current;
    const failures = s.failures;
    if (s.kind === CircuitState.Open) {
      s.isolated = true;
      return;
    }
    this.transition({ kind: CircuitState.Open, failures, openedAt: this.now(), isolated: true }, 'manual');
  }

  /** Closes the breaker (also an isolated one) and forgets its failures; trials in flight then count for nothing. */
  reset(): void {
    if (this.current.kind === CircuitState.Closed) {
      this.current.failures = 0;
      return;
    }
    this.transition({ kind: CircuitState.Closed, failures: 0 }, 'manual');
  }

  /**
   * Runs `fn` under a permit. Rejects with `BrokenCircuitError` (without calling `fn`) when the
   * breaker refuses; `isFailure` tells which errors of `fn` count as failures.
   */
  async execute<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    const permit = this.tryAcquire();
    if (!permit) throw new BrokenCircuitError(this.name, this.retryAt);
    try {
      const value = await fn();
      permit.success();
      return value;
    } catch (error) {
      if (isFailure(error)) permit.failure();
      else permit.success();
      throw error;
    }
  }

  private closedPermit(): CircuitPermit {
    // Outcomes of calls that started while closed still count after a state change: a failure
    // that lands while open does not move anything (the breaker is already open), and a success
    // that lands while half-open is no trial, so it is ignored there.
    let done = false;
    return {
      success: () => {
        if (done) return;
        done = true;
        if (this.current.kind === CircuitState.Closed) this.current.failures = 0;
      },
      failure: () => {
        if (done) return;
        done = true;
        if (this.current.kind !== CircuitState.Closed) return;
        this.current.failures += 1;
        if (this.current.failures >= this.opts.failureThreshold) {
          this.transition(
            { kind: CircuitState.Open, failures: this.current.failures, openedAt: this.now() },
            'failure-threshold',
          );
        }
      },
      release: () => {
        done = true;
      },
    };
  }

  private trialPermit(trialState: InternalState & { kind: CircuitState.HalfOpen }): CircuitPermit {
    let done = false;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      // Only the half-open period that granted this trial is affected by its outcome.
      if (this.current !== trialState) return false;
      trialState.inFlight -= 1;
      return true;
    };
    return {
      success: () => {
        if (settle()) this.transition({ kind: CircuitState.Closed, failures: 0 }, 'trial-succeeded');
      },
      failure: () => {
        if (settle()) {
          this.transition(
            { kind: CircuitState.Open, failures: trialState.failures + 1, openedAt: this.now() },
            'trial-failed',
          );
        }
      },
      release: () => {
        settle();
      },
    };
  }

  private advance(): void {
    const s = this.current;
    if (s.kind === CircuitState.Open && !s.isolated && this.now() - s.openedAt >= this.opts.resetTimeoutMs) {
      this.transition(
        { kind: CircuitState.HalfOpen, failures: s.failures, openedAt: s.openedAt, inFlight: 0 },
        'reset-timeout',
      );
    }
  }

  private transition(next: InternalState, reason: CircuitStateChangeReason): void {
    const from = this.current.kind;
    this.current = next;
    this.onStateChange.emit({
      breaker: this.name,
      from,
      to: next.kind,
      reason,
      failures: next.failures,
      at: this.now(),
    });
  }
}
