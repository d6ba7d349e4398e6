import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { EventRepublishers } from './event-republishers.service';
import { RepublishPass } from './republisher-status.interface';

/** What the indicator reports per republisher. */
export interface RepublisherHealthDetails {
  /** Age of the oldest undelivered event in ms (`null`: none, or not known before the first pass). */
  oldestUndeliveredAgeMs: number | null;
  /** The age above which the check is `down`. */
  maxUndeliveredAgeMs: number;
  undelivered?: number;
  running: boolean;
  /** The last pass (`startedAt` as ISO text). */
  lastPass?: Omit<RepublishPass, 'republisher' | 'startedAt'> & { startedAt: string };
  /** ISO time of the next scheduled pass. */
  nextPassAt?: string;
}

export interface RepublisherCheckOptions {
  /** Overrides every republisher's `maxUndeliveredAgeMs` for this check. */
  maxUndeliveredAgeMs?: number;
}

/**
 * Terminus indicator for the republishers: `down` when a republisher's oldest undelivered event
 * is older than its `maxUndeliveredAgeMs` (events are piling up: the pub/sub, a consumer or its
 * callbacks have been failing for that long), `up` otherwise, with every republisher's figures.
 * Asks each source's `stats()` (1 s at most; the last known figures otherwise). Returns results,
 * never throws.
 *
 * A backlog is not the pod's own fault (restarting it fixes nothing): put this check on a
 * dashboard or an alert, or in readiness only when the app wants to stop taking work meanwhile.
 */
@Injectable()
export class RepublisherHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly republishers: EventRepublishers,
  ) {}

  async isHealthy<const Key extends string = 'republishers'>(
    key: Key = 'republishers' as Key,
    options: RepublisherCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const details: Record<string, RepublisherHealthDetails> = {};
    const late: string[] = [];
    const statuses = await Promise.all(this.republishers.all().map((r) => r.refreshStatus().catch(() => r.status())));
    for (const s of statuses) {
      const max = options.maxUndeliveredAgeMs ?? s.maxUndeliveredAgeMs;
      const pass = s.lastPass;
      details[s.name] = {
        oldestUndeliveredAgeMs: s.oldestUndeliveredAgeMs,
        maxUndeliveredAgeMs: max,
        ...(s.undelivered !== undefined ? { undelivered: s.undelivered } : {}),
        running: s.running,
        ...(pass
          ? {
              lastPass: {
                startedAt: new Date(pass.startedAt).toISOString(),
                durationMs: pass.durationMs,
                found: pass.found,
                published: pass.published,
                failed: pass.failed,
                skipped: pass.skipped,
                ...(pass.error !== undefined ? { error: pass.error } : {}),
              },
            }
          : {}),
        ...(s.nextPassAt !== undefined ? { nextPassAt: new Date(s.nextPassAt).toISOString() } : {}),
      };
      if (s.oldestUndeliveredAgeMs !== null && s.oldestUndeliveredAgeMs > max) late.push(s.name);
    }
    const session = this.health.check(key);
    if (late.length > 0) {
      return session.down({
        message: `undelivered events older than allowed: ${late.join(', ')}`,
        republishers: details,
      });
    }
    return session.up({ republishers: details });
  }
}
