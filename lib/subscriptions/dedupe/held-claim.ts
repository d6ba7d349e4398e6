import { Logger } from '@nestjs/common';
import { ClaimRecord, DedupeStore } from './dedupe-store.interface';

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
}

/**
 * How far apart replica clocks may be when a lease is judged by time: a done mark is written
 * without an ETag only if it lands this long before the lease ends.
 */
export const CLOCK_MARGIN_MS = 1_000;

/** How the claim looked when read back: still ours (with its ETag), gone to someone else, or unreadable. */
type OwnView = { mine: true; etag: string } | { mine: false; what: string } | { unreadable: string };

/**
 * A claim this replica holds on an event key while its handler runs.
 *
 * - Renewed every third of the lease while the handler runs (a late one too, until it settles):
 *   read, check it is still this run's (`token`), write the new lease with the ETag just read.
 *   A claim found in other hands is lost: logged at ERROR; the handler's outcome is not written.
 * - Settled once (`finish`): after a success, the claim becomes its done mark; after a failure,
 *   it is deleted so the next delivery runs the handler. Either is written only while this run
 *   still holds the claim: by time, when the lease last written provably outlasts the write
 *   (`now + writeBudgetMs + CLOCK_MARGIN_MS` is before its end: no other replica takes over before
 *   then, clocks agreeing within the margin), else by the claim's ETag, read just before. A release always
 *   goes by ETag: deleting a claim that passed to another replica would let a third one in.
 *
 * `calls` counts the sidecar round trips made after the claim was taken (renewals, settling).
 */
export class HeldClaim {
  private calls = 0;
  private timer?: NodeJS.Timeout;
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
  }

  /**
   * Settles the claim (done mark or release), exactly once; resolves to the round trips the claim
   * took after it was taken. Never rejects.
   */
  async finish(handlerSucceeded: boolean): Promise<number> {
    if (this.settled) return 0;
    this.settled = true;
    clearTimeout(this.timer);
    await this.renewing;
    try {
      if (handlerSucceeded) await this.markDone();
      else await this.release();
    } catch (error) {
      this.t.logger.error(`${this.t.where}: settling its claim failed: ${(error as Error)?.message}`);
    } finally {
      this.onEnd();
    }
    return this.calls;
  }

  /** Stops renewing without settling (the app is shutting down): the lease runs out on its own. */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.onEnd();
  }

  private scheduleRenewal(): void {
    if (this.settled || this.lost) return;
    this.timer = setTimeout(
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
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const view = await this.readOwn();
    if (this.settled) return;
    if ('unreadable' in view)
      return this.t.logger.warn(`${this.t.where}: its claim could not be renewed (${view.unreadable}); trying again`);
    if (!view.mine) return this.lose(view.what);
    const until = this.t.now() + this.t.leaseMs;
    const claim: ClaimRecord = { state: 'claimed', owner: this.t.owner, token: this.t.token, until };
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, claim, this.t.claimTtlSec),
    );
    if (wrote.ok) this.heldUntil = until;
    else if (wrote.reason === 'conflict') this.lose('it changed while it was being renewed');
    else this.t.logger.warn(`${this.t.where}: its claim could not be renewed (${wrote.error}); trying again`);
  }

  private async markDone(): Promise<void> {
    const done = { state: 'done' as const, owner: this.t.owner, token: this.t.token, at: this.t.now() };
    if (!this.lost && this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS <= this.heldUntil) {
      const wrote = await this.roundTrip(() =>
        this.t.store.markDone(this.t.storeName, this.t.key, done, this.t.doneTtlSec),
      );
      if (wrote.ok) return;
      if (wrote.reason !== 'unknown') return this.doneNotWritten(wrote.error);
      // It may have landed: read it back (and write it by ETag if it did not).
    }
    const view = await this.readOwn(true);
    if ('unreadable' in view) return this.doneNotWritten(view.unreadable);
    if (!view.mine) {
      if (view.what === 'done') return;
      return this.doneNotWritten(`the claim ${view.what}`, true);
    }
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, done, this.t.doneTtlSec),
    );
    if (!wrote.ok) this.doneNotWritten(wrote.error, wrote.reason === 'conflict');
  }

  private async release(): Promise<void> {
    const view = await this.readOwn();
    if ('unreadable' in view) return this.notReleased(view.unreadable);
    if (!view.mine) return this.t.logger.debug(`${this.t.where}: nothing to release: the claim ${view.what}`);
    const removed = await this.roundTrip(() => this.t.store.remove(this.t.storeName, this.t.key, view.etag));
    if (!removed.ok) this.notReleased(removed.error);
  }

  /**
   * The record read back, as this run sees it. `doneIsMine`: a done mark of this very run (its
   * done write whose answer was lost) counts as `what: 'done'`.
   */
  private async readOwn(doneIsMine = false): Promise<OwnView> {
    const read = await this.roundTrip(() => this.t.store.read(this.t.storeName, this.t.key));
    if (!read.ok) return { unreadable: read.error };
    const r = read.record;
    if (r?.state === 'claimed' && r.token === this.t.token && read.etag !== undefined)
      return { mine: true, etag: read.etag };
    if (r?.state === 'done' && (doneIsMine ? r.token === this.t.token : true)) return { mine: false, what: 'done' };
    if (r === undefined) return { mine: false, what: 'is gone (its record expired or was deleted)' };
    return { mine: false, what: `passed to ${r.owner || 'another replica'}` };
  }

  private async roundTrip<T>(op: () => Promise<T>): Promise<T> {
    this.calls += 1;
    return op();
  }

  private lose(what: string): void {
    if (this.lost) return;
    this.lost = true;
    clearTimeout(this.timer);
    this.t.logger.error(
      `${this.t.where}: its claim ${what} while the handler still ran: another replica may run it too ` +
        '(the lease is too short for this handler, or the sidecar was slower than the lease allows)',
    );
  }

  private doneNotWritten(why: string, passedOn = false): void {
    this.t.logger.error(
      `${this.t.where} was handled, but its done mark was not written (${why})` +
        (passedOn ? '' : `; a redelivery after the ${this.t.leaseMs / 1000} s lease would run the handler again`),
    );
  }

  private notReleased(why: string): void {
    this.t.logger.warn(
      `${this.t.where}: its claim could not be released (${why}); the next delivery runs the handler once its ` +
        `${this.t.leaseMs / 1000} s lease is over`,
    );
  }
}
