import { Logger } from '@nestjs/common';
import { ClaimOutcome, ClaimTerms, CLOCK_MARGIN_MS } from './claim-terms';
import { DedupeRecord, DedupeStore, ReadOutcome, WriteOutcome } from './dedupe-store.interface';
import { HeldClaim } from './held-claim';

/**
 * HeldClaim on its own, against one record in memory with ETags (the consumer's spec runs it
 * through IdempotentConsumer; this one reaches the branches a consumer rarely meets). A test makes
 * an operation fail by queuing an answer for it (`store.answers.read.push(...)`).
 */
class OneRecordStore implements DedupeStore {
  entry?: { record: DedupeRecord; etag: string };
  readonly ops: string[] = [];
  readonly answers: Record<'read' | 'replace' | 'markDone' | 'remove', (WriteOutcome | ReadOutcome | Error)[]> = {
    read: [],
    replace: [],
    markDone: [],
    remove: [],
  };
  private version = 0;

  private scripted<T>(op: keyof OneRecordStore['answers']): T | undefined {
    this.ops.push(op);
    const answer = this.answers[op].shift();
    if (answer instanceof Error) throw answer;
    return answer as T | undefined;
  }

  put(record: DedupeRecord): void {
    this.entry = { record, etag: String(++this.version) };
  }

  async insert(): Promise<WriteOutcome> {
    throw new Error('a held claim never inserts');
  }

  async read(): Promise<ReadOutcome> {
    return this.scripted<ReadOutcome>('read') ?? { ok: true, record: this.entry?.record, etag: this.entry?.etag };
  }

  async replace(_s: string, _k: string, etag: string, record: DedupeRecord): Promise<WriteOutcome> {
    const answer = this.scripted<WriteOutcome>('replace');
    if (answer) return answer;
    if (this.entry?.etag !== etag) return { ok: false, reason: 'conflict', error: 'etag mismatch' };
    this.put(record);
    return { ok: true };
  }

  async markDone(_s: string, _k: string, record: DedupeRecord): Promise<WriteOutcome> {
    const answer = this.scripted<WriteOutcome>('markDone');
    if (answer) return answer;
    this.put(record);
    return { ok: true };
  }

  /** A transaction of effects and the done mark (the consumer's spec covers `commit`). */
  async commit(_s: string, _k: string, etag: string | undefined, record: DedupeRecord): Promise<WriteOutcome> {
    this.ops.push('commit');
    if (etag !== undefined && this.entry?.etag !== etag) return { ok: false, reason: 'conflict', error: 'etag mismatch' };
    this.put(record);
    return { ok: true };
  }

  async remove(_s: string, _k: string, etag: string): Promise<WriteOutcome> {
    const answer = this.scripted<WriteOutcome>('remove');
    if (answer) return answer;
    if (this.entry?.etag !== etag) return { ok: false, reason: 'conflict', error: 'etag mismatch' };
    this.entry = undefined;
    return { ok: true };
  }
}

const LEASE_MS = 30_000;
const BUDGET_MS = 5_000;
const WHERE = 'Ledger.onEntry: event e1 (key "e1") on pubsub/ledger';
const unanswered: WriteOutcome = { ok: false, reason: 'unavailable', error: 'no answer' };
const failed: WriteOutcome = { ok: false, reason: 'failed', error: 'store answered 500' };
const unreadable: ReadOutcome = { ok: false, error: 'read failed' };

describe('HeldClaim', () => {
  let store: OneRecordStore;
  let logger: Logger;
  let settled: [ClaimOutcome, number, number][];
  let lost: string[];
  let ended: number;
  const claims: HeldClaim[] = [];

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    store = new OneRecordStore();
    logger = new Logger('held-claim.spec');
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(logger, level).mockImplementation(() => undefined);
    }
    settled = [];
    lost = [];
    ended = 0;
  });
  afterEach(() => {
    for (const c of claims.splice(0)) c.abandon();
    jest.useRealTimers();
  });

  const later = (ms: number) => jest.advanceTimersByTimeAsync(ms);
  const lines = (level: 'log' | 'warn' | 'error' | 'debug') => jest.mocked(logger[level]).mock.calls.map((c) => c[0]);

  /** A claim this run wrote just now (lease LEASE_MS), held. */
  const held = (terms: Partial<ClaimTerms> = {}, token = 'run-1') => {
    const until = Date.now() + LEASE_MS;
    store.put({ state: 'claimed', owner: 'replica-a', token, until });
    const claim = new HeldClaim(
      {
        store,
        storeName: 'statestore',
        key: 'k',
        owner: 'replica-a',
        token: 'run-1',
        leaseMs: LEASE_MS,
        claimTtlSec: 90,
        doneTtlSec: 60,
        writeBudgetMs: BUDGET_MS,
        now: () => Date.now(),
        logger,
        where: WHERE,
        onLost: (why) => lost.push(why),
        onSettled: (outcome, calls, renewals) => settled.push([outcome, calls, renewals]),
        ...terms,
      },
      until,
      () => (ended += 1),
    );
    claims.push(claim);
    return claim;
  };

  it('renews every third of the lease: read, then replace by the ETag with a new until; counted as renewals', async () => {
    const claim = held();
    await later(LEASE_MS / 3 - 1);
    expect(store.ops).toEqual([]);
    await later(1);
    expect(store.ops).toEqual(['read', 'replace']);
    expect(store.entry?.record).toEqual({ state: 'claimed', owner: 'replica-a', token: 'run-1', until: Date.now() + LEASE_MS });
    await later(LEASE_MS / 3);
    expect(await claim.finish(true)).toBe(5);
    expect(settled).toEqual([['done', 5, 2]]);
    expect(ended).toBe(1);
  });

  it('a renewal keeps the claim past its first lease: the lapse moves with it', async () => {
    held();
    await later(LEASE_MS * 2);
    expect(lost).toEqual([]);
  });

  it('a renewal that fails (an error answer) is logged and tried again; the claim is not lost', async () => {
    held();
    store.answers.replace.push(failed);
    await later(LEASE_MS / 3);
    expect(lines('warn')).toEqual([`${WHERE}: its claim could not be renewed (store answered 500); trying again`]);
    await later(LEASE_MS / 3);
    expect(store.ops).toEqual(['read', 'replace', 'read', 'replace']);
    expect(lost).toEqual([]);
  });

  it('a renewal whose read fails is logged and tried again', async () => {
    held();
    store.answers.read.push(unreadable);
    await later(LEASE_MS / 3);
    expect(lines('warn')).toEqual([`${WHERE}: its claim could not be renewed (read failed); trying again`]);
    expect(store.ops).toEqual(['read']);
  });

  it('a renewal that throws is logged at ERROR and the next one still runs', async () => {
    held();
    store.answers.read.push(new Error('boom'));
    await later(LEASE_MS / 3);
    expect(lines('error')).toEqual([`${WHERE}: renewing its claim failed: Error: boom`]);
    await later(LEASE_MS / 3);
    expect(store.ops).toEqual(['read', 'read', 'replace']);
  });

  it('a renewal that meets a changed ETag loses the claim: ERROR, onLost, no more renewals', async () => {
    held();
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementationOnce(async () => {
      const view = await read();
      store.put({ state: 'claimed', owner: 'replica-b', token: 'run-2', until: Date.now() + LEASE_MS });
      return view;
    });
    await later(LEASE_MS / 3);
    expect(lost).toEqual(['its dedupe claim changed while it was being renewed']);
    expect(lines('error')).toEqual([
      `${WHERE}: its claim changed while it was being renewed while the handler still ran: another replica may run it; ` +
        "the handler's signal is aborted (the lease may be too short for this handler, or the sidecar was unreachable for longer)",
    ]);
    await later(LEASE_MS);
    expect(store.ops).toEqual(['read', 'replace']);
    expect(lost).toHaveLength(1);
  });

  it('a renewal that finds the record gone, or another replica’s claim, says so', async () => {
    held();
    store.entry = undefined;
    await later(LEASE_MS / 3);
    expect(lost).toEqual(['its dedupe claim is gone (its record expired or was deleted)']);

    lost = [];
    held();
    store.put({ state: 'claimed', owner: '', token: 'run-2', until: Date.now() + LEASE_MS });
    await later(LEASE_MS / 3);
    expect(lost).toEqual(['its dedupe claim passed to another replica']);
  });

  it('a claim of this run that the store gives without an ETag is not renewed blindly (passed on)', async () => {
    held();
    store.answers.read.push({ ok: true, record: store.entry!.record });
    await later(LEASE_MS / 3);
    expect(lost).toEqual(['its dedupe claim passed to replica-a']);
  });

  it('lapses the clock margin before the lease last written ends, when it could not be renewed', async () => {
    held();
    store.answers.read.push(unreadable, unreadable, unreadable);
    await later(LEASE_MS - CLOCK_MARGIN_MS - 1);
    expect(lost).toEqual([]);
    await later(1);
    expect(lost).toEqual(['its dedupe claim lapsed: it could not be renewed before its lease ended']);
  });

  it('a renewal whose answer comes after the handler finished writes nothing more', async () => {
    const claim = held();
    let answer!: () => void;
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementationOnce(
      () => new Promise((resolve) => (answer = () => resolve(read()))),
    );
    await later(LEASE_MS / 3);
    const finishing = claim.finish(false);
    answer();
    await finishing;
    expect(store.ops).toEqual(['read', 'read', 'remove']);
    expect(settled).toEqual([['released', 3, 0]]);
  });

  it('the done mark goes without an ETag while the lease provably holds (up to the last millisecond)', async () => {
    const claim = held();
    // The renewals fail: the lease last written is the first one.
    store.answers.read.push(unreadable, unreadable);
    await later(LEASE_MS - BUDGET_MS - CLOCK_MARGIN_MS);
    store.ops.length = 0;
    await claim.finish(true);
    expect(store.ops).toEqual(['markDone']);
    expect(store.entry?.record).toEqual({ state: 'done', owner: 'replica-a', token: 'run-1', at: Date.now() });
  });

  it('one millisecond later it goes by the claim’s ETag', async () => {
    const claim = held();
    store.answers.read.push(unreadable, unreadable);
    await later(LEASE_MS - BUDGET_MS - CLOCK_MARGIN_MS + 1);
    store.ops.length = 0;
    await claim.finish(true);
    expect(store.ops).toEqual(['read', 'replace']);
    expect(store.entry?.record).toMatchObject({ state: 'done', token: 'run-1' });
  });

  it('letGo stops renewing; the claim lapses without a report and is settled by its ETag', async () => {
    const claim = held();
    claim.letGo();
    await later(LEASE_MS * 2);
    expect(store.ops).toEqual([]);
    expect(lost).toEqual([]);
    await claim.finish(true);
    expect(store.ops).toEqual(['read', 'replace']);
    expect(settled).toEqual([['done', 2, 0]]);
  });

  it('letGo after the claim was lost or settled changes nothing', async () => {
    const claim = held();
    await claim.finish(true);
    claim.letGo();
    expect(settled).toEqual([['done', 1, 0]]);
  });

  it('a done mark the store cannot take now: WARN, kept, written again every third of the lease, then logged', async () => {
    const claim = held();
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable);
    expect(await claim.finish(true)).toBe(2);
    expect(lines('warn')).toEqual([
      `${WHERE} was handled, but its done mark could not be written yet (read failed); ` +
        'the claim is kept and the mark written again every 10 s until the store takes it',
    ]);
    expect(settled).toEqual([]);
    await later(LEASE_MS / 3 - 1);
    expect(store.ops).toEqual(['markDone', 'read']);
    await later(1);
    expect(store.ops).toEqual(['markDone', 'read', 'read', 'replace']);
    expect(lines('log')).toEqual([`${WHERE}: its done mark is written now`]);
    expect(settled).toEqual([['done', 4, 0]]);
    expect(ended).toBe(1);
  });

  it('a done mark written again that finds its own done mark there (the answer was lost) is done', async () => {
    const claim = held();
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable);
    await claim.finish(true);
    store.put({ state: 'done', owner: 'replica-a', token: 'run-1', at: Date.now() });
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['done', 3, 0]]);
  });

  it('a done mark written again whose claim passed on ends not-written: ERROR without the redelivery warning', async () => {
    const claim = held();
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable);
    await claim.finish(true);
    store.put({ state: 'done', owner: 'replica-b', token: 'run-2', at: Date.now() });
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['not-written', 3, 0]]);
    expect(lines('error')).toEqual([`${WHERE} was handled, but its done mark was not written (the claim passed to replica-b)`]);
  });

  it('a done mark written again is given up after the done mark’s life; a write that throws ends it at once', async () => {
    const claim = held({ doneTtlSec: 20 });
    store.answers.markDone.push(unanswered);
    store.answers.read.push(...Array(3).fill(unreadable));
    await claim.finish(true);
    await later(LEASE_MS / 3);
    expect(settled).toEqual([]);
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['not-written', 4, 0]]);
    expect(lines('error')).toEqual([
      `${WHERE} was handled, but its done mark was not written (read failed); a redelivery after the 30 s lease would run the handler again`,
    ]);

    settled = [];
    const other = held();
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable, new Error('boom'));
    await other.finish(true);
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['not-written', 3, 0]]);
  });

  it('settling that throws is logged at ERROR and ends not-written; finish resolves', async () => {
    const claim = held();
    store.answers.markDone.push(new Error('boom'));
    await expect(claim.finish(true)).resolves.toBe(1);
    expect(lines('error')).toEqual([`${WHERE}: settling its claim failed: boom`]);
    expect(settled).toEqual([['not-written', 1, 0]]);
  });

  it('a release that cannot read or delete the claim: WARN with the lease, not-written', async () => {
    const claim = held();
    store.answers.read.push(unreadable);
    expect(await claim.finish(false)).toBe(1);
    const other = held();
    store.answers.remove.push(failed);
    expect(await other.finish(false)).toBe(2);
    expect(lines('warn')).toEqual([
      `${WHERE}: its claim could not be released (read failed); the next delivery runs the handler once its 30 s lease is over`,
      `${WHERE}: its claim could not be released (store answered 500); the next delivery runs the handler once its 30 s lease is over`,
    ]);
    expect(settled).toEqual([
      ['not-written', 1, 0],
      ['not-written', 2, 0],
    ]);
  });

  it('nothing to release when the claim is no longer this run’s (DEBUG, lost)', async () => {
    const claim = held();
    store.put({ state: 'done', owner: 'replica-b', token: 'run-2', at: Date.now() });
    await claim.finish(false);
    expect(lines('debug')).toEqual([`${WHERE}: nothing to release: the claim done`]);
    expect(settled).toEqual([['lost', 1, 0]]);
    expect(store.ops).toEqual(['read']);
  });

  it('abandon: abandoned while the handler runs; not-written (ERROR) when its done mark is pending; nothing once settled', async () => {
    const running = held();
    running.abandon();
    expect(settled).toEqual([['abandoned', 0, 0]]);
    await later(LEASE_MS);
    expect(store.ops).toEqual([]);

    const pending = held();
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable);
    await pending.finish(true);
    pending.abandon();
    expect(settled[1]).toEqual(['not-written', 2, 0]);
    expect(lines('error')).toEqual([
      `${WHERE} was handled, but its done mark was not written (the app shut down before the store took it); ` +
        'a redelivery after the 30 s lease would run the handler again',
    ]);

    const finished = held();
    await finished.finish(true);
    finished.abandon();
    expect(settled).toHaveLength(3);
    expect(ended).toBe(3);
  });
  /** Holds the next read until `answer()` is called (an answer in flight). */
  const slowRead = () => {
    let answer!: () => void;
    const read = store.read.bind(store);
    jest.spyOn(store, 'read').mockImplementationOnce(() => new Promise((resolve) => (answer = () => resolve(read()))));
    return () => answer();
  };
  /** A done mark the store could not take at finish: pending, written again every third of the lease. */
  const pendingDone = async (claim: HeldClaim) => {
    store.answers.markDone.push(unanswered);
    store.answers.read.push(unreadable);
    await claim.finish(true);
  };

  it('settling that throws something that is not an Error is logged all the same', async () => {
    const claim = held();
    jest.spyOn(store, 'markDone').mockRejectedValueOnce(undefined);
    await expect(claim.finish(true)).resolves.toBe(1);
    expect(lines('error')).toEqual([`${WHERE}: settling its claim failed: undefined`]);
  });

  it('letGo while its done mark is pending does not stop the mark being written', async () => {
    const claim = held();
    await pendingDone(claim);
    claim.letGo();
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['done', 4, 0]]);
  });

  it('letGo while a renewal is in flight: the renewal writes nothing and none follows', async () => {
    const claim = held();
    const answer = slowRead();
    await later(LEASE_MS / 3);
    claim.letGo();
    answer();
    await later(LEASE_MS);
    expect(store.ops).toEqual(['read']);
    expect(lost).toEqual([]);
  });

  it('a renewal write answered after finish began is not counted, and moves nothing', async () => {
    const claim = held();
    let answer!: () => void;
    const replace = store.replace.bind(store);
    jest
      .spyOn(store, 'replace')
      .mockImplementationOnce((...args) => new Promise((resolve) => (answer = () => resolve(replace(...args)))));
    await later(LEASE_MS / 3);
    const finishing = claim.finish(true);
    answer();
    await finishing;
    expect(settled).toEqual([['done', 3, 0]]);
  });

  it('abandon after the pending done mark was written logs nothing more', async () => {
    const claim = held();
    await pendingDone(claim);
    await later(LEASE_MS / 3);
    expect(settled).toEqual([['done', 4, 0]]);
    claim.abandon();
    expect(lines('error')).toEqual([]);
    expect(settled).toHaveLength(1);
  });

  it('finish after abandon writes nothing', async () => {
    const claim = held();
    claim.abandon();
    expect(await claim.finish(true)).toBe(0);
    expect(store.ops).toEqual([]);
  });

  it('abandon while a release is in flight: settled once, as abandoned', async () => {
    const claim = held();
    const answer = slowRead();
    const finishing = claim.finish(false);
    await Promise.resolve();
    claim.abandon();
    answer();
    await finishing;
    expect(settled).toEqual([['abandoned', 1, 0]]);
    expect(ended).toBe(1);
  });

  it('abandon while a pending done mark is being written again: no "written now" after it', async () => {
    const claim = held();
    await pendingDone(claim);
    const answer = slowRead();
    await later(LEASE_MS / 3);
    claim.abandon();
    answer();
    await later(LEASE_MS);
    expect(lines('log')).toEqual([]);
    expect(settled.map((e) => e[0])).toEqual(['not-written']);
  });
});
