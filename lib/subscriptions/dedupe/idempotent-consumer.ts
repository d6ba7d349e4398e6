import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DaprEvent, DaprEventStatus } from '../dapr-event.interface';
import { SubscriptionHandler } from '../subscription-definition';
import { ClaimRecord, DedupeStore, ReadOutcome, WriteOutcome } from '../../claims/dedupe-store.interface';
import { ClaimOutcome } from '../../claims/claim-terms';
import { StateTransactionOperation } from '../../dapr/dapr.interfaces';
import { CommitResult, HeldClaim } from '../../claims/held-claim';

/** Why an event did not reach its handler. */
export type SkipReason = 'health-check' | 'duplicate' | 'in-progress' | 'store-unavailable' | 'no-dedupe-key';

/**
 * The verdict on one event: run the handler (then `finish` with how it went, exactly once: it
 * settles the claim and resolves to the round trips that took), or answer `status` without it.
 * `calls` counts sidecar round trips so far.
 */
export type DedupeVerdict =
  | {
      run: true;
      calls: number;
      finish: (handlerSucceeded: boolean) => Promise<number>;
      /** Instead of `finish(true)`, for a transactional handler: its writes and the done mark in one transaction. */
      commit: (effects: StateTransactionOperation[]) => Promise<CommitResult>;
      /** Stops renewing the claim while the handler still runs: it lapses with its lease. */
      letGo: () => void;
    }
  | { run: false; calls: number; status: DaprEventStatus; reason: SkipReason };

/** How one claim ended (see `ClaimOutcome`), for events and metrics. */
export interface ClaimSettled {
  handler: SubscriptionHandler;
  event: DaprEvent;
  key: string;
  outcome: ClaimOutcome;
  /** Sidecar round trips after the claim was taken (renewals, settling). */
  calls: number;
  renewals: number;
}

/** What the consumer needs besides each subscription's own dedupe settings. */
export interface ConsumerTiming {
  /** The longest one write to the dedupe store can take: the sidecar's timeout (writes are sent once). */
  writeBudgetMs: number;
  now?: () => number;
  /** Told how every claim ended. */
  onSettled?: (settled: ClaimSettled) => void;
}

/**
 * The idempotent consumer. Per event key, one record in the dedupe store:
 * - a *claim* `{ owner, token, until }`, written with first-write concurrency, so that of two
 *   replicas receiving the same event at once exactly one writes it and runs the handler; it
 *   carries a lease (`until`), renewed while the handler runs (`HeldClaim`);
 * - the *done mark*: the same record turned `done` once the handler returned. A key with a done
 *   mark is answered `SUCCESS` without the handler.
 * A new event costs two round trips (claim, done mark) when its handler ends within the first
 * renewal interval; a copy of a handled one two (claim refused, record read).
 *
 * A refused claim is settled by the one read of the record: done → `SUCCESS`; a claim whose lease
 * runs → `RETRY` (another replica is at it; the redelivery will find its done mark); a lease over
 * (a crashed replica) → take it over with the ETag just read — which also proves it is still not
 * done — and run; a claim this very replica left behind (its answer was lost) and is not running
 * → take it back at once. A store that cannot be read → `RETRY`, the handler never called; a
 * claim whose write has an unknown outcome is read back before anything else. A failed handler
 * releases its claim and writes no done mark, so the next delivery runs it.
 *
 * The claim record lives `ttlSec + leaseSec` and the done mark `ttlSec`. Leases are compared with
 * this replica's clock: replica clocks must agree to well within the lease (NTP).
 */
export class IdempotentConsumer {
  /** This replica, as written in its claims. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Keys whose claims this replica holds now, with what settles them at shutdown. */
  private readonly held = new Map<string, HeldClaim>();
  /** Keys an attempt of this replica is claiming right now (before it holds them, or gives up), with that attempt. */
  private readonly claiming = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(
    private readonly store: DedupeStore,
    private readonly logger: Logger,
    private readonly timing: ConsumerTiming,
  ) {
    this.now = timing.now ?? Date.now;
  }

  /** Claims held right now (handlers running, late ones included). */
  get heldClaims(): number {
    return this.held.size;
  }

  /**
   * Keys live under the subscription's pubsub and topic (not the event's `topic` attribute, which a
   * dead-lettered copy keeps from its original topic).
   */
  async begin(
    handler: SubscriptionHandler,
    event: DaprEvent,
    onLost: (why: string) => void = () => undefined,
  ): Promise<DedupeVerdict> {
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
    const recordKey = ['kugel-dedupe', handler.pubsub, handler.topic, key].map(encodeURIComponent).join('|');
    return new ClaimAttempt(this, handler, event, key, recordKey, onLost).run();
  }

  /** Stops renewing every claim (the app is shutting down): their leases run out on their own. */
  abandonAll(): void {
    for (const claim of [...this.held.values()]) claim.abandon();
  }

  /** @internal The parts a claim attempt works with. */
  get parts() {
    return {
      store: this.store,
      logger: this.logger,
      timing: this.timing,
      now: this.now,
      held: this.held,
      claiming: this.claiming,
    };
  }
}

/** One event's way to its verdict (the round trips counted as they are made). */
class ClaimAttempt {
  private calls = 0;
  private readonly token = randomUUID();
  private readonly where: string;

  constructor(
    private readonly consumer: IdempotentConsumer,
    private readonly h: SubscriptionHandler,
    private readonly event: DaprEvent,
    private readonly key: string,
    private readonly recordKey: string,
    private readonly onLost: (why: string) => void,
  ) {
    this.where = `${h.name}: event ${event.id} (key ${JSON.stringify(key)}) on ${h.pubsub}/${h.topic}`;
  }

  private get p() {
    return this.consumer.parts;
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
    const own = record.owner === this.consumer.owner;
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
        owner: this.consumer.owner,
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
      owner: this.consumer.owner,
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
