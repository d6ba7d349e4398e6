import { CLOCK_MARGIN_MS, ClaimOutcome, ClaimTerms } from './claim-terms';
import { DoneRecord } from './dedupe-store.interface';

/** A done mark written (`done`), or the claim found in other hands (`lost`), or not now (`retry`, why). */
export type DoneAttempt = 'done' | 'lost' | { retry: string };

/** How the claim looked when read back: still ours (with its ETag), gone to someone else, or unreadable. */
export type OwnView = { mine: true; etag: string } | { mine: false; what: string } | { unreadable: string };

/**
 * The round trips of one run's claim to its store, each counted in `calls`: the record read back
 * as this run sees it, the done mark (without an ETag while the lease provably holds, else by the
 * claim's ETag), the release (always by ETag), and the log lines of a mark or a release that did
 * not land. `HeldClaim` decides when each is due.
 */
export class ClaimWrites {
  /** Round trips so far. */
  calls = 0;

  constructor(private readonly t: ClaimTerms) {}

  /**
   * The done mark: without an ETag while the lease provably holds (one round trip), else (or when
   * that write did not take) by the claim's ETag. `retry` when the store could not take it now.
   */
  async markDone(heldUntil: number, lost: boolean): Promise<DoneAttempt> {
    if (!lost && this.t.now() + this.t.writeBudgetMs + CLOCK_MARGIN_MS <= heldUntil) {
      const wrote = await this.roundTrip(() =>
        this.t.store.markDone(this.t.storeName, this.t.key, this.doneRecord(), this.t.doneTtlSec),
      );
      if (wrote.ok) return 'done';
      // Unknown: it may have landed (read back). Failed or unavailable: by ETag, below or later.
    }
    return this.markDoneByEtag();
  }

  /** Reads the claim; still this run's → replaces it with the done mark by its ETag. */
  async markDoneByEtag(): Promise<DoneAttempt> {
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

  doneRecord(): DoneRecord {
    return { state: 'done', owner: this.t.owner, token: this.t.token, at: this.t.now() };
  }

  async release(): Promise<ClaimOutcome> {
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
  async readOwn(doneIsMine = false): Promise<OwnView> {
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

  async roundTrip<T>(op: () => Promise<T>): Promise<T> {
    this.calls += 1;
    return op();
  }

  doneNotWritten(why: string, passedOn = false): void {
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
