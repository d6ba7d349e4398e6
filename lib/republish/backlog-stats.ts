import { Logger } from '@nestjs/common';
import { describe } from './republish-pass';
import { RepublishSource, UndeliveredEvent } from './republish-source.interface';

const STATS_TIMEOUT_MS = 1_000;

/**
 * What a republisher knows of its backlog: how many events wait and when the oldest was created,
 * from the source's `stats()` when it has one, else from what the last pass found. A source that
 * fails or is slow leaves the last known figures.
 */
export class BacklogStats {
  private known: { undelivered?: number; oldest: number | null } = { oldest: null };

  constructor(
    private readonly source: RepublishSource,
    private readonly logger: Logger,
    /** The republisher's name, in log lines. */
    private readonly name: string,
  ) {}

  /** Events waiting, as last known; `undefined` before the first figures. */
  get undelivered(): number | undefined {
    return this.known.undelivered;
  }

  /** Age of the oldest waiting event at `now` (it grows between passes); `null` when none is known. */
  oldestAgeMs(now: number): number | null {
    return this.known.oldest === null ? null : Math.max(0, now - this.known.oldest);
  }

  /** The source's stats when it has `stats()` (1 s at most), else what a pass found. */
  async refresh(found?: UndeliveredEvent[]): Promise<void> {
    const source = this.source;
    if (typeof source.stats === 'function') {
      let timer: NodeJS.Timeout | undefined;
      try {
        const stats = await Promise.race([
          source.stats(),
          new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), STATS_TIMEOUT_MS);
          }),
        ]);
        if (stats && typeof stats.undelivered === 'number') {
          this.known = { undelivered: stats.undelivered, oldest: epochOf(stats.oldestCreatedAt) };
          return;
        }
      } catch (error) {
        this.logger.warn(`republisher "${this.name}": stats() failed: ${describe(error)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    if (found) {
      const times = found.map((e) => epochOf(e.createdAt)).filter((t): t is number => t !== null);
      this.known = { undelivered: found.length, oldest: times.length > 0 ? Math.min(...times) : null };
    }
  }
}

function epochOf(value: Date | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}
