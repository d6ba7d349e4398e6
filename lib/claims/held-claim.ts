import { StateTransactionOperation } from '../dapr/dapr.interfaces';
import { CLOCK_MARGIN_MS, ClaimOutcome, ClaimTerms } from './claim-terms';
import { ClaimRecord, DoneRecord } from './dedupe-store.interface';

/** A done mark written (`done`), or the claim found in other hands (`lost`), or not now (`retry`, why). */
type DoneAttempt = 'done' | 'lost' | { retry: string };

/** A transactional handler's commit: whether its writes and the done mark landed, and why not. */
export interface CommitResult {
  committed: boolean;
  /** Round trips the commit took (reads, the transaction, a release). */
  calls: number;
  why?: string;
}

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
  /** `finish` (or `abandon`) was called: the handler is over. */
  private settling = false;
  /** The claim's end was reported (`settle`). */
  private done = false;
  private lost = false;
  /** The handler ran too long: the claim is no longer renewed (`letGo`). */
  private letGone = false;
  /** When the done mark first failed to be written (it is being written again since). */
  private pendingSince?: number;

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
    if (this.settling) return 0;
    this.settling = true;
    this.stopTimers();
    await this.renewing;
    try {
      if (!handlerSucceeded) return this.settle(await this.release());
      const first = await this.markDone();
      if (typeof first === 'string') return this.settle(first);
      // The store could not take it now: keep the claim (copies are answered RETRY, not run
      // again) and write the mark as soon as the store takes it.
      this.t.logger.warn(
        `${this.t.where} was handled, but its done mark could not be written yet (${first.retry}); ` +
          `the claim is kept and the mark written again every ${Math.round(this.t.leaseMs / 3000)} s until the store takes it`,
      );
      this.pendingSince = this.t.now();
      this.scheduleDoneRetry();
    } catch (error) {
      this.t.logger.error(`${this.t.where}: settling its claim failed: ${(error as Error)?.message}`);
      this.settle('not-written');
    }
    return this.calls;
  }

  /**
   * Settles the claim of a transactional handler that returned: its `effects` and the done mark in
   * one state transaction (without an ETag on the done mark while the lease provably holds, else by
   * the claim's ETag read just before). Only a commit seen to land counts: on any other answer the
   * record is read back — the done mark of this run there → committed (on a store that does not roll
   * back, a failed write of the handler's may have been left out: logged at ERROR); the claim still
   * this run's → not committed, the claim released so the redelivery runs the handler again; else
   * (lost, unreadable) → not committed, the redelivery finds out. Unlike `finish`, nothing is
   * written again later: the writes live in this process only, so a commit that did not land is
   * answered `RETRY` and daprd keeps the event. Exactly once; never rejects.
   */
  async commit(effects: StateTransactionOperation[]): Promise<CommitResult> {
    if (this.settling) return { committed: false, calls: 0, why: 'the claim was settled already' };
    this.settling = true;
    this.stopTimers();
    await this.renewing;
    const start = this.calls;
    const result = (committed: boolean, outcome: ClaimOutcome, why?: string): CommitResult => {
      this.settle(outcome);
      return { committed, calls: this.calls - start, why };
    };
    try {
      if (this.lost) return result(false, 'lost', 'the claim was lost while the handler ran');
      let etag: string | undefined;
      if (this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS > this.heldUntil) {
        const view = await this.readOwn();
        if ('unreadable' in view)
          return result(false, 'not-written', `the claim could not be read: ${view.unreadable}`);
        if (!view.mine) return result(false, 'lost', `the claim ${view.what}`);
        etag = view.etag;
      }
      const wrote = await this.roundTrip(() =>
        this.t.store.commit(this.t.storeName, this.t.key, etag, this.doneRecord(), this.t.doneTtlSec, effects),
      );
      if (wrote.ok) return result(true, 'done');
      const after = await this.readOwn(true);
      if ('unreadable' in after) {
        return result(false, 'not-written', `${wrote.error}; reading the claim back failed too: ${after.unreadable}`);
      }
      if (!after.mine && after.what === 'done') {
        if (wrote.reason !== 'unknown') {
          this.t.logger.error(
            `${this.t.where}: its transaction failed (${wrote.error}) yet its done mark landed: the store applied ` +
              'part of the transaction (it does not roll back, as state.redis does not); a write of the handler may be missing',
          );
        }
        return result(true, 'done');
      }
      if (!after.mine) return result(false, 'lost', `${wrote.error}; the claim ${after.what}`);
      const removed = await this.roundTrip(() => this.t.store.remove(this.t.storeName, this.t.key, after.etag));
      return result(false, removed.ok ? 'released' : 'not-written', wrote.error);
    } catch (error) {
      this.t.logger.error(`${this.t.where}: committing its transaction failed: ${(error as Error)?.message}`);
      return result(false, 'not-written', (error as Error)?.message);
    }
  }

  /**
   * Stops renewing while the handler still runs (it ran too long): the claim lapses with its lease,
   * without a report (the caller has told the handler). `finish` still settles it, by ETag.
   */
  letGo(): void {
    if (this.settling || this.lost) return;
    this.letGone = true;
    // No longer held by time: what is written next goes by the claim's ETag.
    this.heldUntil = 0;
    this.stopTimers();
  }

  /** Stops renewing without settling (the app is shutting down): the lease runs out on its own. */
  abandon(): void {
    if (this.done) return;
    const pending = this.pendingSince !== undefined;
    this.settling = true;
    this.stopTimers();
    if (pending) this.doneNotWritten('the app shut down before the store took it');
    this.settle(pending ? 'not-written' : 'abandoned');
  }

  /** The claim's end: it stops being held, and `onSettled` is told how it ended (once). */
  private settle(outcome: ClaimOutcome): number {
    if (this.done) return this.calls;
    this.done = true;
    this.stopTimers();
    this.onEnd();
    this.t.onSettled(outcome, this.calls, this.renewals);
    return this.calls;
  }

  /** Writes the done mark again, by ETag, until the store takes it (for as long as a done mark lives). */
  private scheduleDoneRetry(): void {
    this.renewTimer = setTimeout(
      () => {
        void this.markDoneByEtag().then(
          (attempt) => {
            if (this.done) return;
            if (attempt === 'done') {
              this.t.logger.log(`${this.t.where}: its done mark is written now`);
              return this.settle('done');
            }
            // The store failed this run's outcome until its claim passed on: the outage, not a lost claim.
            if (attempt === 'lost') return this.settle('not-written');
            if (this.t.now() - this.pendingSince! >= this.t.doneTtlSec * 1000) {
              this.doneNotWritten(attempt.retry);
              return this.settle('not-written');
            }
            this.scheduleDoneRetry();
          },
          () => this.settle('not-written'),
        );
      },
      Math.max(1, Math.floor(this.t.leaseMs / 3)),
    );
    this.renewTimer.unref();
  }

  private stopTimers(): void {
    clearTimeout(this.renewTimer);
    clearTimeout(this.lapseTimer);
  }

  private scheduleRenewal(): void {
    if (this.settling || this.lost || this.letGone) return;
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
    if (this.settling || this.lost || this.letGone) return;
    const ms = Math.max(0, this.heldUntil - CLOCK_MARGIN_MS - this.t.now());
    this.lapseTimer = setTimeout(() => this.lose('lapsed: it could not be renewed before its lease ended'), ms);
    this.lapseTimer.unref();
  }

  private async renew(): Promise<void> {
    const view = await this.readOwn();
    if (this.settling || this.lost || this.letGone) return;
    if ('unreadable' in view) return this.notRenewed(view.unreadable);
    if (!view.mine) return this.lose(view.what);
    const until = this.t.now() + this.t.leaseMs;
    const claim: ClaimRecord = { state: 'claimed', owner: this.t.owner, token: this.t.token, until };
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, claim, this.t.claimTtlSec),
    );
    if (this.settling || this.lost || this.letGone) return;
    if (wrote.ok) {
      this.renewals += 1;
      this.heldUntil = until;
      this.scheduleLapse();
    } else if (wrote.reason === 'conflict') this.lose('changed while it was being renewed');
    else this.notRenewed(wrote.error);
  }

  /**
   * The done mark: without an ETag while the lease provably holds (one round trip), else (or when
   * that write did not take) by the claim's ETag. `retry` when the store could not take it now.
   */
  private async markDone(): Promise<DoneAttempt> {
    if (!this.lost && this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS <= this.heldUntil) {
      const wrote = await this.roundTrip(() =>
        this.t.store.markDone(this.t.storeName, this.t.key, this.doneRecord(), this.t.doneTtlSec),
      );
      if (wrote.ok) return 'done';
      // Unknown: it may have landed (read back). Failed or unavailable: by ETag, below or later.
    }
    return this.markDoneByEtag();
  }

  /** Reads the claim; still this run's → replaces it with the done mark by its ETag. */
  private async markDoneByEtag(): Promise<DoneAttempt> {
    const view = await this.readOwn(true);
    if ('unreadable' in view) return { retry: view.unreadable };
    if (!view.mine) {
      if (view.what === 'done') return 'done';
      this.doneNotWritten(`the claim ${view.what}`, true);
      return 'lost';
    }
    const wrote = await this.roundTrip(() =>
      this.t.store.replace(this.t.storeName, this.t.key, view.etag, this.doneRecord(), this.t.doneTtlSec),
    );
    // A conflict or an unknown outcome: the next read tells (it may be this very write, landed).
    return wrote.ok ? 'done' : { retry: wrote.error };
  }

  private doneRecord(): DoneRecord {
    return { state: 'done', owner: this.t.owner, token: this.t.token, at: this.t.now() };
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
    if (this.lost || this.settling) return;
    this.lost = true;
    this.stopTimers();
    this.t.logger.error(
      `${this.t.where}: its claim ${what} while the handler still ran: another replica may run it; the handler's ` +
        'signal is aborted (the lease may be too short for this handler, or the sidecar was unreachable for longer)',
    );
    this.t.onLost(`its dedupe claim ${what}`);
  }

  private doneNotWritten(why: string, passedOn = false): void {
    this.t.logger.error(
      `${this.t.where} was handled, but its done mark was not written (${why})` +
        (passedOn ? '' : `; a redelivery after the ${this.t.leaseMs / 1000} s lease would run the handler again`),
    );
  }

  private notReleased(why: string): ClaimOutcome {
    this.t.logger.warn(
      `${this.t.where}: its claim could not be released (${why}); the next delivery runs the handler once its ` +
        `${this.t.leaseMs / 1000} s lease is over`,
    );
    return 'not-written';
  }
}
