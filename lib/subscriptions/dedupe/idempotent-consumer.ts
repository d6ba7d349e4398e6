import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DaprEvent, DaprEventStatus } from '../dapr-event.interface';
import { SubscriptionHandler } from '../subscription-definition';
import { DedupeStore } from './dedupe-store.interface';

/** Why an event did not reach its handler. */
export type SkipReason = 'health-check' | 'duplicate' | 'in-progress' | 'store-unavailable' | 'no-dedupe-key';

/**
 * The verdict on one event: run the handler (then `finish` with how it went, exactly once), or
 * answer `status` without it. `calls` counts sidecar round trips so far.
 */
export type DedupeVerdict =
  | { run: true; calls: number; finish: (handlerSucceeded: boolean) => Promise<number> }
  | { run: false; calls: number; status: DaprEventStatus; reason: SkipReason };

/**
 * The idempotent consumer (DESIGN §10). Per event key, in the dedupe store:
 * - `claim`: written with first-write concurrency, so of two replicas receiving the same event at
 *   once exactly one writes it and runs the handler; it carries a lease (`until`);
 * - `done`: written after the handler returned; a key with a done mark is answered `SUCCESS`
 *   without the handler.
 * A new event costs two round trips (claim, done mark); a copy of a handled one two (claim
 * refused, done mark read).
 *
 * A refused claim is settled by reading: done → `SUCCESS`; else the claim: lease running →
 * `RETRY` (another replica is at it; the redelivery will find its done mark); lease over (a
 * crashed replica) → take the claim over with the ETag just read, and run. A store
 * that cannot be read → `RETRY`, the handler never called. A failed handler releases its claim
 * and writes no done mark, so the next delivery runs it.
 *
 * The claim record lives `ttlSec + leaseSec` and the done mark `ttlSec`, so a claim never expires
 * before the done mark it guards. The lease is compared with this replica's clock: replica clocks
 * must agree to well within the lease (NTP).
 */
export class IdempotentConsumer {
  /** This replica, as written in its claims. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly store: DedupeStore,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Keys live under the subscription's pubsub and topic (not the event's `topic` attribute, which a
   * dead-lettered copy keeps from its original topic).
   */
  async begin(handler: SubscriptionHandler, event: DaprEvent): Promise<DedupeVerdict> {
    const handlerName = handler.name;
    const dedupe = handler.dedupe;
    if (!dedupe) throw new Error(`${handlerName} has no dedupe options`);
    const data = event.data as { test?: unknown } | null;
    if (typeof data === 'object' && data !== null && !Buffer.isBuffer(data) && data.test === 'health-check') {
      return { run: false, calls: 0, status: 'SUCCESS', reason: 'health-check' };
    }
    let key: unknown;
    try {
      key = dedupe.key ? dedupe.key(event) : event.id;
    } catch (error) {
      this.logger.error(
        `${handlerName}: dedupe.key threw for event ${event.id} on ${handler.pubsub}/${handler.topic}: ${(error as Error)?.message} → DROP`,
      );
      return { run: false, calls: 0, status: 'DROP', reason: 'no-dedupe-key' };
    }
    if (typeof key !== 'string' || key.length === 0) {
      this.logger.error(
        `${handlerName}: event ${event.id} on ${handler.pubsub}/${handler.topic} has no dedupe key (dedupe.key gave ${typeof key === 'string' ? 'an empty string' : String(key)}) → DROP`,
      );
      return { run: false, calls: 0, status: 'DROP', reason: 'no-dedupe-key' };
    }
    const base = ['kugel-dedupe', handler.pubsub, handler.topic, key].map(encodeURIComponent).join('|');
    const claimKey = `${base}|claim`;
    const doneKey = `${base}|done`;
    const claimTtl = dedupe.ttlSec + dedupe.leaseSec;
    const record = () => ({ state: 'claimed' as const, owner: this.owner, until: this.now() + dedupe.leaseSec * 1000 });
    const where = `event ${event.id} (key ${JSON.stringify(key)}) on ${handler.pubsub}/${handler.topic}`;

    let calls = 0;
    const claimed = await this.store.claim(dedupe.store, claimKey, record(), claimTtl);
    calls += claimed.calls;
    if (!claimed.ok && !claimed.answered) return this.unavailable(handlerName, where, claimed.error, calls);

    if (!claimed.ok) {
      // Refused: a conflict, or a store error. The done mark settles the common case (a copy of a
      // handled event) in one read; the claim is read only when the key is not done.
      const done = await this.store.readDone(dedupe.store, doneKey);
      calls += done.calls;
      if (!done.ok) return this.unavailable(handlerName, where, done.error, calls);
      if (done.done) {
        this.logger.debug(`${handlerName}: ${where} was already handled → SUCCESS`);
        return { run: false, calls, status: 'SUCCESS', reason: 'duplicate' };
      }
      const view = await this.store.readClaim(dedupe.store, claimKey);
      calls += view.calls;
      if (!view.ok) return this.unavailable(handlerName, where, view.error, calls);
      if (!view.claim) {
        // Refused, yet nothing is there: the write failed (or the claim expired in between).
        return this.unavailable(handlerName, where, claimed.error, calls);
      }
      if (view.claim.until > this.now()) {
        this.logger.debug(`${handlerName}: ${where} is being handled by ${view.claim.owner} → RETRY`);
        return { run: false, calls, status: 'RETRY', reason: 'in-progress' };
      }
      const taken = await this.store.takeOver(dedupe.store, claimKey, view.etag, record(), claimTtl);
      calls += taken.calls;
      if (!taken.ok) {
        if (!taken.answered) return this.unavailable(handlerName, where, taken.error, calls);
        return { run: false, calls, status: 'RETRY', reason: 'in-progress' };
      }
      this.logger.warn(
        `${handlerName}: ${where}: the claim of ${view.claim.owner || 'another replica'} expired unfinished; running the handler again`,
      );
    }

    let finished = false;
    return {
      run: true,
      calls,
      finish: async (handlerSucceeded: boolean) => {
        if (finished) return 0;
        finished = true;
        if (handlerSucceeded) {
          const done = await this.store.markDone(
            dedupe.store,
            doneKey,
            { state: 'done', owner: this.owner, at: this.now() },
            dedupe.ttlSec,
          );
          if (!done.ok) {
            this.logger.error(
              `${handlerName}: ${where} was handled, but its done mark could not be written (${done.error}); ` +
                `a redelivery after the ${dedupe.leaseSec} s lease would run the handler again`,
            );
          }
          return done.calls;
        }
        const released = await this.store.release(dedupe.store, claimKey);
        if (!released.ok) {
          this.logger.warn(
            `${handlerName}: ${where}: the claim could not be released (${released.error}); ` +
              `the next delivery runs the handler once its ${dedupe.leaseSec} s lease is over`,
          );
        }
        return released.calls;
      },
    };
  }

  private unavailable(handlerName: string, where: string, error: string, calls: number): DedupeVerdict {
    this.logger.warn(`${handlerName}: ${where}: the dedupe store cannot be read (${error}) → RETRY`);
    return { run: false, calls, status: 'RETRY', reason: 'store-unavailable' };
  }
}
