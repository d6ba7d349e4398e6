import { checkHistory, History, Run } from './support/history';

/** The history checker itself: each of its counts goes up for the history that has the fault. */
describe('the history checker', () => {
  const base = (): History => ({
    acked: new Map([
      [1, 0],
      [2, 0],
    ]),
    failedPublishes: [],
    runs: [
      { replica: 'A', n: 1, eventId: 'e1', runId: 'r1', start: 10, end: 20, result: 'ok' },
      { replica: 'B', n: 2, eventId: 'e2', runId: 'r2', start: 10, end: 30, result: 'ok' },
    ],
    settlements: [
      { replica: 'A', key: 'e1', outcome: 'done', at: 21 },
      { replica: 'B', key: 'e2', outcome: 'done', at: 31 },
    ],
    deaths: new Map(),
    records: new Map([
      ['e1', 'done'],
      ['e2', 'done'],
    ]),
    unknownDedupeWrites: {},
  });
  const run = (r: Partial<Run>): Run => ({ replica: 'B', n: 1, eventId: 'e1', runId: 'rx', start: 50, ...r });

  it('finds nothing wrong in a clean history', () => {
    const report = checkHistory(base());
    expect(report).toMatchObject({
      acknowledged: 2,
      ackedNeverHandled: [],
      handledMoreThanOnce: [],
      concurrentRuns: [],
      handledWithoutDoneMark: [],
      rerunAfterCrashOrOutage: [],
    });
  });

  it('an acknowledged publish whose runs never returned was never handled', () => {
    const h = base();
    h.runs[1] = { ...h.runs[1], result: 'threw' };
    expect(checkHistory(h).ackedNeverHandled).toEqual([2]);
  });

  it('a second run after the first wrote its done mark is handled more than once', () => {
    const h = base();
    h.runs.push(run({ end: 60, result: 'ok' }));
    expect(checkHistory(h).handledMoreThanOnce).toEqual([1]);
  });

  it('a second run after the first’s claim was lost is handled more than once too', () => {
    const h = base();
    h.settlements[0] = { ...h.settlements[0], outcome: 'lost' };
    h.runs.push(run({ end: 60, result: 'ok' }));
    expect(checkHistory(h).handledMoreThanOnce).toEqual([1]);
  });

  it('a second run after the first’s process died before its mark, or its mark failed, is a re-run of the window', () => {
    const died = base();
    died.settlements = died.settlements.filter((s) => s.replica !== 'A');
    died.deaths.set('A', 20.5);
    died.runs.push(run({ end: 60, result: 'ok' }));
    expect(checkHistory(died)).toMatchObject({ handledMoreThanOnce: [], rerunAfterCrashOrOutage: [1] });

    const failed = base();
    failed.settlements[0] = { ...failed.settlements[0], outcome: 'not-written' };
    failed.runs.push(run({ end: 60, result: 'ok' }));
    expect(checkHistory(failed)).toMatchObject({ handledMoreThanOnce: [], rerunAfterCrashOrOutage: [1] });

    // No settlement, and the process did not die: nothing explains it.
    const unexplained = base();
    unexplained.settlements = unexplained.settlements.filter((s) => s.replica !== 'A');
    unexplained.runs.push(run({ end: 60, result: 'ok' }));
    expect(checkHistory(unexplained).handledMoreThanOnce).toEqual([1]);
  });

  it('two runs whose times overlap are concurrent; a run that died ends at its death', () => {
    const h = base();
    h.runs.push(run({ start: 15, end: 40, result: 'aborted' }));
    expect(checkHistory(h).concurrentRuns).toEqual([['r1', 'rx']]);

    const dead = base();
    dead.runs[0] = { replica: 'A', n: 1, eventId: 'e1', runId: 'r1', start: 10 };
    dead.deaths.set('A', 25);
    dead.runs.push(run({ start: 30, end: 40, result: 'ok' }));
    expect(checkHistory(dead).concurrentRuns).toEqual([]);
    dead.runs.push(run({ runId: 'ry', start: 24, end: 26, result: 'aborted' }));
    expect(checkHistory(dead).concurrentRuns).toEqual([['r1', 'ry']]);
  });

  it('a handled event without a done mark at the end is reported, unless its replica died before settling it', () => {
    const h = base();
    h.records.set('e2', 'claimed');
    expect(checkHistory(h)).toMatchObject({ handledWithoutDoneMark: [2], markDiedWithReplica: [] });
    h.settlements = h.settlements.filter((s) => s.replica !== 'B');
    expect(checkHistory(h)).toMatchObject({ handledWithoutDoneMark: [2], markDiedWithReplica: [] });
    h.deaths.set('B', 30.5);
    expect(checkHistory(h)).toMatchObject({ handledWithoutDoneMark: [], markDiedWithReplica: [2] });
  });

  it('failed publishes are split into delivered anyway and not delivered', () => {
    const h = base();
    h.acked.delete(2);
    h.failedPublishes = [
      { n: 2, code: 'ECONNABORTED' },
      { n: 3, code: 'ECONNRESET' },
    ];
    expect(checkHistory(h).failedPublishes).toEqual({
      total: 2,
      deliveredAnyway: 1,
      notDelivered: 1,
      codes: { ECONNABORTED: 1, ECONNRESET: 1 },
    });
  });
});
