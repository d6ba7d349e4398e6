import { StateTransactionOperation } from '../dapr/dapr.interfaces';
import { CLOCK_MARGIN_MS, ClaimOutcome, ClaimTerms } from './claim-terms';
import { ClaimWrites } from './claim-writes';
import { ClaimRecord } from './dedupe-store.interface';

/** A transactional handler's commit: whether its writes and the done mark landed, and why not. */
export interface CommitResult {
  committed: boolean;
  /** Round trips the commit took (reads, the transaction, a release). */
  calls: number;
  why?: string;
}

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
  private renewals = 0;
  private renewTimer?: NodeJS.Timeout;
  private lapseTimer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  /** `finish` (or `abandon`) was called: the handler is over. */
  private settling = false;
  /** The claim's end was reported (`settle`). */
  private done = false;
  private lost = false;
  /** The handler ran too long: the claim stops being renewed (`letGo`). */
  private letGone = false;
  /** When the done mark first failed to be written (it is being written again since). */
  private pendingSince?: number;
  /** The claim's round trips to its store. */
  private readonly writes: ClaimWrites;

  constructor(
    private readonly t: ClaimTerms,
    /** The `until` of the claim as written. */
    private heldUntil: number,
    /** Called once, when the claim stops being held by this run (settled, or given up). */
    private readonly onEnd: () => void,
  ) {
    this.writes = new ClaimWrites(t);
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
      if (!handlerSucceeded) return this.settle(await this.writes.release());
      const first = await this.writes.markDone(this.heldUntil, this.lost);
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
    return this.writes.calls;
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
    const start = this.writes.calls;
    const result = (committed: boolean, outcome: ClaimOutcome, why?: string): CommitResult => {
      this.settle(outcome);
      return { committed, calls: this.writes.calls - start, why };
    };
    try {
      if (this.lost) return result(false, 'lost', 'the claim was lost while the handler ran');
      let etag: string | undefined;
      if (this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS > this.heldUntil) {
        const view = await this.writes.readOwn();
        if ('unreadable' in view)
          return result(false, 'not-written', `the claim could not be read: ${view.unreadable}`);
        if (!view.mine) return result(false, 'lost', `the claim ${view.what}`);
        etag = view.etag;
      }
      const wrote = await this.writes.roundTrip(() =>
        this.t.store.commit(this.t.storeName, this.t.key, etag, this.writes.doneRecord(), this.t.doneTtlSec, effects),
      );
      if (wrote.ok) return result(true, 'done');
      const after = await this.writes.readOwn(true);
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
      const removed = await this.writes.roundTrip(() => this.t.store.remove(this.t.storeName, this.t.key, after.etag));
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
    if (pending) this.writes.doneNotWritten('the app shut down before the store took it');
    this.settle(pending ? 'not-written' : 'abandoned');
  }

  /** The claim's end: it stops being held, and `onSettled` is told how it ended (once). */
  private settle(outcome: ClaimOutcome): number {
    if (this.done) return this.writes.calls;
    this.done = true;
    this.stopTimers();
    this.onEnd();
    this.t.onSettled(outcome, this.writes.calls, this.renewals);
    return this.writes.calls;
  }

  /** Writes the done mark again, by ETag, until the store takes it (for as long as a done mark lives). */
  private scheduleDoneRetry(): void {
    this.renewTimer = setTimeout(
      () => {
        void this.writes.markDoneByEtag().then(
          (attempt) => {
            if (this.done) return;
            if (attempt === 'done') {
              this.t.logger.log(`${this.t.where}: its done mark is written now`);
              return this.settle('done');
            }
            // The store failed this run's outcome until its claim passed on: the outage, not a lost claim.
            if (attempt === 'lost') return this.settle('not-written');
            if (this.t.now() - this.pendingSince! >= this.t.doneTtlSec * 1000) {
              this.writes.doneNotWritten(attempt.retry);
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
    const view = await this.writes.readOwn();
    if (this.settling || this.lost || this.letGone) return;
    if ('unreadable' in view) return this.notRenewed(view.unreadable);
    if (!view.mine) return this.lose(view.what);
    const until = this.t.now() + this.t.leaseMs;
    const claim: ClaimRecord = { state: 'claimed', owner: this.t.owner, token: this.t.token, until };
    const wrote = await this.writes.roundTrip(() =>
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
}
