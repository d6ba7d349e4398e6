import { Logger } from '@nestjs/common';
import { ClaimRecord, DedupeStore } from './dedupe-store.interface';

/**
 * How a claim ended:
 * - `done`: its done mark is written (copies are answered `SUCCESS`);
 * - `released`: deleted after the handler failed (the next delivery runs it);
 * - `lost`: it passed to another replica, or lapsed, while its handler ran;
 * - `not-written`: the handler's outcome could not be written (the store failed): the claim stays,
 *   and a redelivery after the lease runs the handler again;
 * - `abandoned`: the app shut down while the handler ran; the lease runs out on its own.
 */
export type ClaimOutcome = 'done' | 'released' | 'lost' | 'not-written' | 'abandoned';

/** What a held claim needs to know about itself and its store. */
export interface ClaimTerms {
  store: DedupeStore;
  /** The Dapr state store's name. */
  storeName: string;
  key: string;
  owner: string;
  token: string;
  leaseMs: number;
  /** How long a claim record lives (the done mark's life plus the lease). */
  claimTtlSec: number;
  /** How long the done mark lives. */
  doneTtlSec: number;
  /** The longest one write to the store can take (the sidecar's timeout: writes are sent once). */
  writeBudgetMs: number;
  now: () => number;
  logger: Logger;
  /** `Class.method: event <id> (key ...) on pubsub/topic`, for log lines. */
  where: string;
  /** Called once when the claim is lost or lapses while the handler runs (the handler should stop). */
  onLost: (why: string) => void;
  /** Called once with how the claim ended, the round trips it took after it was taken, its renewals. */
  onSettled: (outcome: ClaimOutcome, calls: number, renewals: number) => void;
}

/**
 * How far apart replica clocks may be when a lease is judged by time: a done mark is written
 * without an ETag only if it lands this long before the lease ends, and a claim that could not be
 * renewed is given up this long before it ends.
 */
export const CLOCK_MARGIN_MS = 1_000;

/** How the claim looked when read back: still ours (with its ETag), gone to someone else, or unreadable. */
type OwnView = { mine: true; etag: string } | { mine: false; what: string } | { unreadable: string };

/**
 * A claim this replica holds on an event key while its handler runs.
 *
 * - Renewed every third of the lease while the handler runs (a late one too, until it settles):
 *   read, check it is still this run's (`token`), write the new lease with the ETag just read.
 *   A claim found in other hands is lost, and one that could not be renewed before its lease ends
 *   (less the clock margin) lapses: either is logged at ERROR and `onLost` tells the handler to
 *   stop (the event's `signal` is aborted); its outcome is not written.
 * - Settled once (`finish`): after a success, the claim becomes its done mark; after a failure,
 *   it is deleted so the next delivery runs the handler. Either is written only while this run
 *   still holds the claim: by time, when the lease last written provably outlasts the write
 *   (`now + writeBudgetMs + CLOCK_MARGIN_MS` is before its end: no other replica takes over before
 *   then, clocks agreeing within the margin), else by the claim's ETag, read just before. A
 *   release always goes by ETag: deleting a claim that passed to another replica would let a
 *   third one in.
 */
export class HeldClaim {
  private calls = 0;
  private renewals = 0;
  private renewTimer?: NodeJS.Timeout;
  private lapseTimer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private settled = false;
  private lost = false;

  constructor(
    private readonly t: ClaimTerms,
    /** The `until` of the claim as written. */
    private heldUntil: number,
    /** Called once, when the claim stops being held by this run (settled, or given up). */
    private readonly onEnd: () => void,
  ) {
    this.scheduleRenewal();
    this.scheduleLapse();
  }

  /**
   * Settles the claim (done mark or release), exactly once; resolves to the round trips the claim
   * took after it was taken. Never rejects.
   */
  async finish(handlerSucceeded: boolean): Promise<number> {
    if (this.settled) return 0;
    this.settled = true;
    this.stopTimers();
    await this.renewing;
    let outcome: ClaimOutcome = 'not-written';
    try {
      outcome = handlerSucceeded ? await this.markDone() : await this.release();
    } catch (error) {
      this.t.logger.error(`${this.t.where}: settling its claim failed: ${(error as Error)?.message}`);
    } finally {
      this.onEnd();
    }
    this.t.onSettled(this.lost && outcome !== 'done' ? 'lost' : outcome, this.calls, this.renewals);
    return this.calls;
  }

  /** Stops renewing without settling (the app is shutting down): the lease runs out on its own. */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    this.stopTimers();
    this.onEnd();
    this.t.onSettled('abandoned', this.calls, this.renewals);
  }

  private stopTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.lapseTimer);
  }

  private scheduleRenewal(): void {
    if (this.settled || this.lost) return;
    this.renewTimer = setTimeout(
      () => {
        this.renewing = this.renew()
          .catch((error: unknown) =>
            this.t.logger.error(`${this.t.where}: renewing its claim failed: ${String(error)}`),
          )
          .finally(() => {
            this.renewing = undefined;
            this.scheduleRenewal();
          });
      },
      Math.max(1, Math.floor(this.t.leaseMs / 3)),
    );
    // A renewal never keeps the process alive on its own.
    this.renewTimer.unref();
  }

  /** Gives the claim up, the clock margin before the lease last written ends, unless a renewal moved it. */
  private scheduleLapse(): void {
    clearTimeout(this.lapseTimer);
    if (this.settled || this.lost) return;
    const ms = Math.max(0, this.heldUntil - CLOCK_MARGIN_MS - this.t.now());
    this.lapseTimer = setTimeout(() => this.lose('lapsed: it could not be renewed before its lease ended'), ms);
    this.lapseTimer.unref();
  }

  private async renew(): Promise<void> {
    const view = await this.readOwn();
    if (this.settled || this.lost) return;
    if ('unreadable' in view) return this.notRenewed(view.unreadable);
    if (!view.mine) return this.lose(view.what);
    const until = this.t.now() + this.t.leaseMs;
    const claim: ClaimRecord = { state: 'claimed', owner: this.t.owner, token: this.t.token, until };
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, claim, this.t.claimTtlSec),
    );
    if (this.settled || this.lost) return;
    if (wrote.ok) {
      this.renewals += 1;
      this.heldUntil = until;
      this.scheduleLapse();
    } else if (wrote.reason === 'conflict') this.lose('changed while it was being renewed');
    else this.notRenewed(wrote.error);
  }

  private async markDone(): Promise<ClaimOutcome> {
    const done = { state: 'done' as const, owner: this.t.owner, token: this.t.token, at: this.t.now() };
    if (!this.lost && this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS <= this.heldUntil) {
      const wrote = await this.roundTrip(() =>
        this.t.store.markDone(this.t.storeName, this.t.key, done, this.t.doneTtlSec),
      );
      if (wrote.ok) return 'done';
      if (wrote.reason !== 'unknown') return this.doneNotWritten(wrote.error);
      // It may have landed: read it back (and write it by ETag if it did not).
    }
    const view = await this.readOwn(true);
    if ('unreadable' in view) return this.doneNotWritten(view.unreadable);
    if (!view.mine) return view.what === 'done' ? 'done' : this.doneNotWritten(`the claim ${view.what}`, true);
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, done, this.t.doneTtlSec),
    );
    if (wrote.ok) return 'done';
    return this.doneNotWritten(wrote.error, wrote.reason === 'conflict');
  }

  private async release(): Promise<ClaimOutcome> {
    const view = await this.readOwn();
    if ('unreadable' in view) return this.notReleased(view.unreadable);
    if (!view.mine) {
      this.t.logger.debug(`${this.t.where}: nothing to release: the claim ${view.what}`);
      return 'lost';
    }
    const removed = await this.roundTrip(() => this.t.store.remove(this.t.storeName, this.t.key, view.etag));
    return removed.ok ? 'released' : this.notReleased(removed.error);
  }

  /**
   * The record read back, as this run sees it. `doneIsMine`: only a done mark of this very run
   * (its done write whose answer was lost) counts as `what: 'done'`.
   */
  private async readOwn(doneIsMine = false): Promise<OwnView> {
    const read = await this.roundTrip(() => this.t.store.read(this.t.storeName, this.t.key));
    if (!read.ok) return { unreadable: read.error };
    const r = read.record;
    if (r?.state === 'claimed' && r.token === this.t.token && read.etag !== undefined) {
      return { mine: true, etag: read.etag };
    }
    if (r?.state === 'done' && (!doneIsMine || r.token === this.t.token)) return { mine: false, what: 'done' };
    if (r === undefined) return { mine: false, what: 'is gone (its record expired or was deleted)' };
    return { mine: false, what: `passed to ${r.owner || 'another replica'}` };
  }

  private async roundTrip<T>(op: () => Promise<T>): Promise<T> {
    this.calls += 1;
    return op();
  }

  private notRenewed(why: string): void {
    this.t.logger.warn(`${this.t.where}: its claim could not be renewed (${why}); trying again`);
  }

  private lose(what: string): void {
    if (this.lost || this.settled) return;
    this.lost = true;
    this.stopTimers();
    this.t.logger.error(
      `${this.t.where}: its claim ${what} while the handler still ran: another replica may run it; the handler's ` +
        'signal is aborted (the lease may be too short for this handler, or the sidecar was unreachable for longer)',
    );
    this.t.onLost(`its dedupe claim ${what}`);
  }

  private doneNotWritten(why: string, passedOn = false): ClaimOutcome {
    this.t.logger.error(
      `${this.t.where} was handled, but its done mark was not written (${why})` +
        (passedOn ? '' : `; a redelivery after the ${this.t.leaseMs / 1000} s lease would run the handler again`),
    );
    return passedOn ? 'lost' : 'not-written';
  }

  private notReleased(why: string): ClaimOutcome {
    this.t.logger.warn(
      `${this.t.where}: its claim could not be released (${why}); the next delivery runs the handler once its ` +
        `${this.t.leaseMs / 1000} s lease is over`,
    );
    return 'not-written';
  }
}
