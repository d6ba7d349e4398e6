import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
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
}

export interface BreakerCheckOptions {
  /** Overrides `health.openCircuitIs` for this check (`'up'` for liveness endpoints). */
  openCircuitIs?: 'down' | 'up';
  /** Overrides `health.criticalBreakers`: only these breakers can make the check `down`. */
  criticalBreakers?: string[];
}

/**
 * Terminus indicator for every circuit breaker (REST peers and Dapr components). Closed and
 * half-open are `up`; open is `down` when the breaker is critical and `openCircuitIs` is `'down'`
 * (the default), otherwise `up` with the details. Returns results, never throws.
 *
 * Use it in readiness, never in liveness: see the README, "Health and Kubernetes probes".
 */
@Injectable()
export class CircuitBreakerHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly registry: CircuitBreakerRegistry,
    private readonly dapr: DaprClientHelper,
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
  ) {}

  /** Reports every breaker under `key` (breakers by name in the details). */
  isHealthy<const Key extends string = 'circuit-breakers'>(
    key: Key = 'circuit-breakers' as Key,
    options: BreakerCheckOptions = {},
  ): HealthIndicatorResult<Key> {
    const openIsDown = (options.openCircuitIs ?? this.options.health.openCircuitIs) === 'down';
    const critical = options.criticalBreakers ?? this.options.health.criticalBreakers;
    const details: Record<string, BreakerHealthDetails> = {};
    const open: string[] = [];
    for (const breaker of this.registry.all()) {
      const s = breaker.snapshot();
      const isCritical = critical === undefined || critical.includes(s.name);
      details[s.name] = {
        state: s.state,
        consecutiveFailures: s.consecutiveFailures,
        ...(s.openedAt !== undefined ? { openedAt: isoTime(s.openedAt) } : {}),
        ...(s.nextAttemptAt !== undefined ? { nextAttemptAt: isoTime(s.nextAttemptAt) } : {}),
        critical: isCritical,
      };
      if (s.state === CircuitState.Open && isCritical) open.push(s.name);
    }
    const session = this.health.check(key);
    if (open.length > 0 && openIsDown) {
      return session.down({ message: `open circuit: ${open.join(', ')}`, breakers: details });
    }
    return session.up({ breakers: details });
  }

  /** `GET /v1.0/healthz` of the pod's own sidecar: a per-pod fault, so a readiness check. */
  async isSidecarHealthy<const Key extends string = 'dapr-sidecar'>(
    key: Key = 'dapr-sidecar' as Key,
    timeoutMs = 2000,
  ): Promise<HealthIndicatorResult<Key>> {
    const result = await this.dapr.checkSidecarHealth(timeoutMs);
    const session = this.health.check(key);
    return result.healthy
      ? session.up()
      : session.down({ message: `sidecar not healthy: ${result.error ?? 'unknown'}` });
  }
}

/** An epoch-ms time as ISO text; a time past what `Date` can show is reported as text, not thrown. */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms since the epoch` : date.toISOString();
}
