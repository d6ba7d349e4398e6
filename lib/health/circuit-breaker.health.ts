import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { DaprClientHelper, DEFAULT_PROBE_TIMEOUT_MS } from '../dapr/dapr-client.helper';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';

/** What the indicator reports per breaker. */
export interface BreakerHealthDetails {
  state: CircuitState;
  consecutiveFailures: number;
  /** ISO time the breaker opened (open and half-open). */
  openedAt?: string;
  /** ISO time an open breaker lets its next trial through. */
  nextAttemptAt?: string;
  /** Whether an open state of this breaker makes the indicator `down`. */
  critical: boolean;
  /** Present (`true`) when the breaker is in `health.degradedBreakers`: open makes the indicator `degraded`. */
  degraded?: true;
}

/** Per-check options of `CircuitBreakerHealthIndicator.isHealthy(key, options)`. */
export interface BreakerCheckOptions {
  /** Overrides `health.openCircuitIs` for this check (`'up'` for liveness endpoints). */
  openCircuitIs?: 'down' | 'up';
  /** Overrides `health.criticalBreakers`: only these breakers can make the check `down`. */
  criticalBreakers?: string[];
}

/** Terminus 12's session, which has `degraded()`; terminus 11's has only `up()` and `down()`. */
type DegradableSession<Key extends string> = ReturnType<HealthIndicatorService['check']> & {
  degraded(data: Record<string, unknown>): HealthIndicatorResult<Key>;
};

/**
 * Terminus indicator for every circuit breaker (REST peers and Dapr components). Closed and
 * half-open are `up`; open is `down` when the breaker is critical (listed in
 * `health.criticalBreakers`: none by default) and `openCircuitIs` is `'down'` (the default),
 * `degraded` when it is in `health.degradedBreakers` (terminus ≥ 12), otherwise `up` with the
 * details. Every breaker is a dependency shared by every pod (a state store, a pub/sub, a peer
 * service): by default none of them makes readiness fail, so that one outage does not take every
 * pod out of the Service at once. Returns results, never throws.
 *
 * Use it in readiness, never in liveness: an open breaker says a dependency is down, which a
 * restart of this pod does not cure.
 */
@Injectable()
export class CircuitBreakerHealthIndicator {
  private readonly canReportDegraded: boolean;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly registry: CircuitBreakerRegistry,
    private readonly dapr: DaprClientHelper,
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
  ) {
    // Feature detection on the installed terminus (not its version string): boot stops here.
    this.canReportDegraded = canReportDegraded(health);
    const degraded = options.health.degradedBreakers;
    if (degraded.length > 0 && !this.canReportDegraded) {
      throw new InvalidOptionsError(
        'health.degradedBreakers',
        degraded,
        'needs @nestjs/terminus 12 or newer (the installed @nestjs/terminus has no "degraded" status)',
      );
    }
  }

  /** Reports every breaker under `key` (breakers by name in the details). */
  isHealthy<const Key extends string = 'circuit-breakers'>(
    key: Key = 'circuit-breakers' as Key,
    options: BreakerCheckOptions = {},
  ): HealthIndicatorResult<Key> {
    const openIsDown = (options.openCircuitIs ?? this.options.health.openCircuitIs) === 'down';
    const critical = options.criticalBreakers ?? this.options.health.criticalBreakers;
    const degraded = this.options.health.degradedBreakers;
    const details: Record<string, BreakerHealthDetails> = {};
    const open: string[] = [];
    const openDegraded: string[] = [];
    for (const breaker of this.registry.all()) {
      const s = breaker.snapshot();
      const isDegraded = degraded.includes(s.name);
      const isCritical = !isDegraded && critical.includes(s.name);
      details[s.name] = {
        state: s.state,
        consecutiveFailures: s.consecutiveFailures,
        ...(s.openedAt !== undefined ? { openedAt: isoTime(s.openedAt) } : {}),
        ...(s.nextAttemptAt !== undefined ? { nextAttemptAt: isoTime(s.nextAttemptAt) } : {}),
        critical: isCritical,
        ...(isDegraded ? { degraded: true as const } : {}),
      };
      if (s.state === CircuitState.Open && isCritical) open.push(s.name);
      if (s.state === CircuitState.Open && isDegraded) openDegraded.push(s.name);
    }
    const session = this.health.check(key);
    if (open.length > 0 && openIsDown) {
      return session.down({ message: `open circuit: ${open.join(', ')}`, breakers: details });
    }
    // The constructor refused degradedBreakers where terminus cannot report degraded.
    if (openDegraded.length > 0 && openIsDown && this.canReportDegraded) {
      const message = `open circuit (degraded): ${openDegraded.join(', ')}`;
      return (session as DegradableSession<Key>).degraded({ message, breakers: details });
    }
    return session.up({ breakers: details });
  }

  /**
   * `GET /v1.0/healthz` of the pod's own sidecar: a per-pod fault, so a readiness check. Ends within
   * `timeoutMs`, a finite number of ms from 1 up; anything else (0, `NaN`, a negative value,
   * `Infinity`) takes the default, 2000. The probe has a socket of its own, never one of the pool
   * the sidecar calls share. Never throws.
   */
  async isSidecarHealthy<const Key extends string = 'dapr-sidecar'>(
    key: Key = 'dapr-sidecar' as Key,
    timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
  ): Promise<HealthIndicatorResult<Key>> {
    const result = await this.dapr.checkSidecarHealth(timeoutMs);
    const session = this.health.check(key);
    return result.healthy
      ? session.up()
      : session.down({ message: `sidecar not healthy: ${result.error ?? 'unknown'}` });
  }
}

/** Whether the installed terminus' sessions have `degraded()` (terminus 12 and newer). */
function canReportDegraded(health: HealthIndicatorService): boolean {
  return typeof (health.check('kugel-comms') as Partial<DegradableSession<string>>).degraded === 'function';
}

/** An epoch-ms time as ISO text; a time past what `Date` can show is reported as text, not thrown. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since the epoch` : date.toISOString();
}
