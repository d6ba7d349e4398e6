import { Logger } from '@nestjs/common';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { backoffDelay } from '../common/backoff';
import { within } from '../common/abandonable';
import { EventSource } from '../common/event';
import { DaprResult, PublishOptions } from '../dapr/dapr.interfaces';
import { BacklogStats } from './backlog-stats';
import { describe, PassProgress, publishEvents } from './republish-pass';
import { PassLease } from './pass-lease';
import { ResolvedRepublisherOptions } from './republisher-options';
import { UndeliveredEvent } from './republish-source.interface';
import { RepublishPass, RepublisherStatus } from './republisher-status.interface';

/** What a republisher needs from the module: the sidecar publish and the pub/sub breakers. @internal */
export interface RepublisherDeps {
  publish(pubsub: string, topic: string, data: unknown, options: PublishOptions): Promise<DaprResult<void>>;
  breakerFor(pubsub: string): CircuitBreaker;
  logger: Logger;
  now?: () => number;
  random?: () => number;
  /** One pass at a time across replicas (`RepublisherOptions.lease`). */
  lease?: PassLease;
}

/**
 * Republishes what the app's database still holds as undelivered (`RepublishSource`), on a
 * schedule: every `intervalMs`, a pass takes up to `batchSize` events whose last attempt is older
 * than `minAgeMs` and publishes each with its own event id, at most `concurrency` at a time, then
 * marks it published or failed.
 *
 * - Never two passes at once: a pass asked for while one runs joins it.
 * - Republishes when the pub/sub breaker allows: an event whose pub/sub breaker is open is not
 *   attempted (nor marked), and that pub/sub is left alone for the rest of the pass; a half-open
 *   breaker gets one trial before the others follow.
 * - Backs off: after a pass with failures the next one waits longer (see `backoff`), but
 *   never much past the moment an open breaker lets its trial through.
 * - Stops cleanly: `stop()` clears the timer, lets no new publish start, and waits for the pass in
 *   flight at most `shutdownTimeoutMs`; a pass abandoned then still settles on its own (its marks
 *   are caught and logged, never thrown).
 *
 * Timers are `setTimeout`s (unref'd), so tests drive them with fake timers.
 */
export class EventRepublisher {
  /** Emitted after every pass. */
  readonly onPass = new EventSource<RepublishPass>();
  private phase: 'created' | 'started' | 'stopped' = 'created';
  private timer?: NodeJS.Timeout;
  private nextPassAt?: number;
  private inFlight?: Promise<RepublishPass>;
  /** What the pass in flight waits for now, named in the log line when shutdown abandons it. */
  private waitingOn = new PassProgress();
  private failingPasses = 0;
  private last?: RepublishPass;
  /** How many events wait, and since when. */
  private readonly backlog: BacklogStats;
  private readonly now: () => number;
  private readonly random: () => number;

  /** @internal */
  constructor(
    private readonly o: ResolvedRepublisherOptions,
    private readonly deps: RepublisherDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.backlog = new BacklogStats(o.source, deps.logger, o.name);
  }

  get name(): string {
    return this.o.name;
  }

  /** Schedules the first pass (`firstPassAfterMs`). Does nothing when started or stopped already. */
  start(): void {
    if (this.phase !== 'created') return;
    this.phase = 'started';
    this.schedule(this.o.firstPassAfterMs);
  }

  /**
   * Stops the schedule. Resolves once the pass in flight has ended, or after `shutdownTimeoutMs`
   * (the pass is then abandoned: it starts no new publish and its late outcomes are only logged).
   */
  async stop(): Promise<void> {
    this.phase = 'stopped';
    this.clearTimer();
    const pass = this.inFlight;
    if (!pass) return;
    const outcome = await within(pass, this.o.shutdownTimeoutMs);
    if (!outcome.done) {
      this.deps.logger.warn(
        `republisher "${this.name}": the pass in flight did not end within ${this.o.shutdownTimeoutMs} ms ` +
          `(shutdownTimeoutMs); abandoned while waiting for ${this.waitingOn.describe()}. No new publish starts; ` +
          'the events it did not mark stay undelivered in the source for a later pass (same event ids)',
      );
    }
  }

  /**
   * Runs a pass now (or joins the one running) and resolves with what it did; never rejects. The
   * schedule is not changed. After `stop()` it resolves at once with nothing done.
   */
  runNow(): Promise<RepublishPass> {
    if (this.inFlight) return this.inFlight;
    if (this.phase === 'stopped') {
      return Promise.resolve(this.emptyPass('the republisher is stopped'));
    }
    const pass = this.pass().finally(() => {
      if (this.inFlight === pass) this.inFlight = undefined;
    });
    this.inFlight = pass;
    return pass;
  }

  /** The state as of now (the oldest undelivered age grows between passes). */
  status(): RepublisherStatus {
    return {
      name: this.name,
      running: this.inFlight !== undefined,
      undelivered: this.backlog.undelivered,
      oldestUndeliveredAgeMs: this.backlog.oldestAgeMs(this.now()),
      maxUndeliveredAgeMs: this.o.maxUndeliveredAgeMs,
      lastPass: this.last,
      nextPassAt: this.nextPassAt,
    };
  }

  /**
   * Asks the source for fresh stats (bounded by 1 s) and returns the status. A source without
   * `stats()`, or one that fails or is slow, leaves the last known figures.
   */
  async refreshStatus(): Promise<RepublisherStatus> {
    await this.backlog.refresh();
    return this.status();
  }

  private schedule(delayMs: number): void {
    this.clearTimer();
    if (this.phase !== 'started') return;
    this.nextPassAt = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.nextPassAt = undefined;
      void this.runNow().then((pass) => this.schedule(this.delayAfter(pass)));
    }, delayMs);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextPassAt = undefined;
  }

  /** `intervalMs` after a clean pass; the backoff after failing ones, not past an open breaker's trial. */
  private delayAfter(pass: RepublishPass): number {
    const failing = pass.error !== undefined || pass.failed > 0 || pass.skipped > 0;
    this.failingPasses = failing ? this.failingPasses + 1 : 0;
    if (!failing) return this.o.intervalMs;
    let delay = backoffDelay(this.o.backoff, this.failingPasses, this.random());
    const retryAt = this.earliestTrial;
    if (retryAt !== undefined) delay = Math.min(delay, Math.max(0, retryAt - this.now()) + 10);
    return Math.max(1, delay);
  }

  /** When the first breaker the last pass found open lets its trial through. */
  private earliestTrial?: number;

  private async pass(): Promise<RepublishPass> {
    const startedAt = this.now();
    const pass: RepublishPass = {
      republisher: this.name,
      startedAt,
      durationMs: 0,
      found: 0,
      published: 0,
      failed: 0,
      skipped: 0,
    };
    this.earliestTrial = undefined;
    const lease = this.deps.lease;
    if (!lease) return this.publishPass(pass, () => false);
    let lost = false;
    const attempt = await lease.take(() => (lost = true));
    if (!attempt.held) {
      if (attempt.by !== undefined) {
        pass.leaseHeldBy = attempt.by;
        this.deps.logger.debug(`republisher "${this.name}": the pass lease is held by ${attempt.by}; pass skipped`);
      } else {
        pass.error = `the pass lease could not be taken: ${attempt.error}`;
        this.deps.logger.warn(`republisher "${this.name}": ${pass.error}`);
      }
      return this.finish(pass);
    }
    try {
      return await this.publishPass(pass, () => lost);
    } finally {
      await attempt.release();
    }
  }

  /** The pass proper: find, publish, mark. `leaseLost`: no new publish starts once it is true. */
  private async publishPass(pass: RepublishPass, leaseLost: () => boolean): Promise<RepublishPass> {
    const startedAt = pass.startedAt;
    let events: UndeliveredEvent[];
    const w = (this.waitingOn = new PassProgress());
    w.source = 'findUndelivered()';
    try {
      events = await this.o.source.findUndelivered({
        limit: this.o.batchSize,
        olderThan: new Date(startedAt - this.o.minAgeMs),
      });
      if (!Array.isArray(events)) throw new TypeError('findUndelivered() did not resolve to an array');
    } catch (error) {
      pass.error = `findUndelivered failed: ${describe(error)}`;
      this.deps.logger.error(`republisher "${this.name}": ${pass.error}`);
      return this.finish(pass);
    }
    pass.found = events.length;
    w.source = 'stats()';
    await this.backlog.refresh(events);
    w.source = '';
    const outcome = await publishEvents(events.slice(0, this.o.batchSize), {
      concurrency: this.o.concurrency,
      stopped: () => this.phase === 'stopped' || leaseLost(),
      publish: (...args) => w.count('publishes', this.deps.publish(...args)),
      breakerFor: this.deps.breakerFor,
      mark: (what, event, error) => w.count('marks', this.mark(what, event, error)),
    });
    pass.published = outcome.published;
    pass.failed = outcome.failed;
    pass.skipped = outcome.skipped;
    this.earliestTrial = outcome.earliestTrial;
    return this.finish(pass);
  }

  /** A mark that fails is logged, never thrown: the event stays undelivered and comes back next pass. */
  private async mark(what: 'markPublished' | 'markFailed', event: UndeliveredEvent, error?: string): Promise<void> {
    try {
      if (what === 'markPublished') await this.o.source.markPublished(event);
      else await this.o.source.markFailed(event, error ?? 'failed');
    } catch (e) {
      this.deps.logger.error(`republisher "${this.name}": ${what}(${String(event.eventId)}) failed: ${describe(e)}`);
    }
  }

  private finish(pass: RepublishPass): RepublishPass {
    pass.durationMs = this.now() - pass.startedAt;
    this.last = pass;
    if (pass.failed > 0 || pass.error) {
      this.deps.logger.warn(
        `republisher "${this.name}": ${pass.published} republished, ${pass.failed} failed, ${pass.skipped} skipped of ${pass.found}${pass.error ? ` (${pass.error})` : ''}`,
      );
    } else if (pass.published > 0) {
      this.deps.logger.log(`republisher "${this.name}": ${pass.published} republished of ${pass.found}`);
    }
    this.onPass.emit(pass);
    return pass;
  }

  private emptyPass(error: string): RepublishPass {
    const now = this.now();
    return {
      republisher: this.name,
      startedAt: now,
      durationMs: 0,
      found: 0,
      published: 0,
      failed: 0,
      skipped: 0,
      error,
    };
  }
}
