import { randomUUID } from 'node:crypto';
import { DaprEvent } from '../dapr-event.interface';
import { SubscriptionHandler } from '../subscription-definition';
import { ClaimRecord, ReadOutcome, WriteOutcome } from '../../claims/dedupe-store.interface';
import { HeldClaim } from '../../claims/held-claim';
import { ConsumerParts, DedupeVerdict } from './consumer-terms';

/** One event's way to its verdict (the round trips counted as they are made). */
export class ClaimAttempt {
  private calls = 0;
  private readonly token = randomUUID();
  private readonly where: string;

  constructor(
    private readonly p: ConsumerParts,
    private readonly h: SubscriptionHandler,
    private readonly event: DaprEvent,
    private readonly key: string,
    private readonly recordKey: string,
    private readonly onLost: (why: string) => void,
  ) {
    this.where = `${h.name}: event ${event.id} (key ${JSON.stringify(key)}) on ${h.pubsub}/${h.topic}`;
  }

  private get d() {
    return this.h.dedupe!;
  }

  /**
   * One attempt per key at a time in this replica: a copy that arrives while another attempt here
   * claims the key waits for that attempt to settle (a claim attempt is bounded by the write budget),
   * then decides; a copy that arrives while this replica's handler runs the event is answered `RETRY`
   * without the store (its claim is this replica's: read back, it would look like one left behind).
   */
  async run(): Promise<DedupeVerdict> {
    const { held, claiming } = this.p;
    for (let other = claiming.get(this.recordKey); other; other = claiming.get(this.recordKey)) {
      await other.catch(() => undefined);
    }
    if (held.has(this.recordKey)) {
      this.p.logger.debug(`${this.where} is being handled in this replica → RETRY`);
      return { run: false, calls: 0, status: 'RETRY', reason: 'in-progress' };
    }
    const attempt = this.claim();
    claiming.set(this.recordKey, attempt);
    try {
      return await attempt;
    } finally {
      if (claiming.get(this.recordKey) === attempt) claiming.delete(this.recordKey);
    }
  }

  private async claim(): Promise<DedupeVerdict> {
    const claim = this.claimRecord();
    const inserted = await this.trip(() => this.p.store.insert(this.d.store, this.recordKey, claim, this.claimTtl));
    if (inserted.ok) return this.hold(claim);
    if (inserted.reason === 'unavailable') return this.unavailable(inserted.error);
    if (inserted.reason === 'unknown') return this.settleUnknown(claim, inserted.error);
    // Refused (a conflict) or failed: the record settles it.
    return this.decide(await this.read(), inserted.error);
  }

  /** A claim write whose outcome is unknown: read back; ours → run; anything else is decided as found. */
  private async settleUnknown(claim: ClaimRecord, error: string): Promise<DedupeVerdict> {
    const view = await this.read();
    if (view.ok && view.record?.state === 'claimed' && view.record.token === this.token) return this.hold(claim);
    if (view.ok && view.record === undefined) return this.unavailable(`${error}; not there when read back`);
    return this.decide(view, error);
  }

  private async decide(view: ReadOutcome, refusal: string): Promise<DedupeVerdict> {
    if (!view.ok) return this.unavailable(view.error);
    const record = view.record;
    // Refused, yet nothing is there: the write failed (or the record expired in between).
    if (!record) return this.unavailable(refusal);
    if (record.state === 'done') {
      this.p.logger.debug(`${this.where} was already handled → SUCCESS`);
      return { run: false, calls: this.calls, status: 'SUCCESS', reason: 'duplicate' };
    }
    // No other attempt of this replica is on the key (see `run`): a claim of its own was left behind.
    const own = record.owner === this.p.owner;
    if (!own && record.until > this.p.now()) {
      this.p.logger.debug(`${this.where} is being handled by ${record.owner} → RETRY`);
      return { run: false, calls: this.calls, status: 'RETRY', reason: 'in-progress' };
    }
    if (view.etag === undefined) return this.unavailable('the store gave the claim no ETag');
    return this.takeOver(view.etag, own ? 'own' : record.owner);
  }

  /** Replaces a claim that expired (or that this replica left behind) with this run's, by its ETag. */
  private async takeOver(etag: string, from: string): Promise<DedupeVerdict> {
    const claim = this.claimRecord();
    const taken = await this.trip(() => this.p.store.replace(this.d.store, this.recordKey, etag, claim, this.claimTtl));
    let ours = taken.ok;
    if (!taken.ok && taken.reason === 'unknown') {
      const view = await this.read();
      ours = view.ok && view.record?.state === 'claimed' && view.record.token === this.token;
    }
    if (!ours) {
      if (!taken.ok && taken.reason === 'unavailable') return this.unavailable(taken.error);
      return { run: false, calls: this.calls, status: 'RETRY', reason: 'in-progress' };
    }
    if (from === 'own') {
      this.p.logger.log(`${this.where}: took back a claim this replica left behind (its answer was lost)`);
    } else {
      this.p.logger.warn(
        `${this.where}: the claim of ${from || 'another replica'} expired unfinished; running the handler again`,
      );
    }
    return this.hold(claim);
  }

  private hold(claim: ClaimRecord): DedupeVerdict {
    const { held, store, logger, timing, now } = this.p;
    const d = this.d;
    const heldClaim = new HeldClaim(
      {
        store,
        storeName: d.store,
        key: this.recordKey,
        owner: this.p.owner,
        token: this.token,
        leaseMs: d.leaseSec * 1000,
        claimTtlSec: this.claimTtl,
        doneTtlSec: d.ttlSec,
        writeBudgetMs: timing.writeBudgetMs,
        now,
        logger,
        where: this.where,
        onLost: this.onLost,
        onSettled: (outcome, calls, renewals) =>
          timing.onSettled?.({ handler: this.h, event: this.event, key: this.key, outcome, calls, renewals }),
      },
      claim.until,
      () => {
        if (held.get(this.recordKey) === heldClaim) held.delete(this.recordKey);
      },
    );
    held.set(this.recordKey, heldClaim);
    return {
      run: true,
      calls: this.calls,
      finish: (ok) => heldClaim.finish(ok),
      commit: (effects) => heldClaim.commit(effects),
      letGo: () => heldClaim.letGo(),
    };
  }

  private claimRecord(): ClaimRecord {
    return {
      state: 'claimed',
      owner: this.p.owner,
      token: this.token,
      until: this.p.now() + this.d.leaseSec * 1000,
    };
  }

  private get claimTtl(): number {
    return this.d.ttlSec + this.d.leaseSec;
  }

  private read(): Promise<ReadOutcome> {
    return this.trip(() => this.p.store.read(this.d.store, this.recordKey));
  }

  private async trip<T extends WriteOutcome | ReadOutcome>(op: () => Promise<T>): Promise<T> {
    this.calls += 1;
    return op();
  }

  private unavailable(error: string): DedupeVerdict {
    this.p.logger.warn(`${this.where}: the dedupe store cannot be read (${error}) → RETRY`);
    return { run: false, calls: this.calls, status: 'RETRY', reason: 'store-unavailable' };
  }
}
