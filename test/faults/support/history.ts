import { ClaimOutcome } from '../../../lib/claims/claim-terms';

/** One run of the handler in a replica process, as the replica wrote it down. */
export interface Run {
  /** The replica process (`A`, and `A2` for the same replica started again). */
  replica: string;
  /** The publish it came from (the test's sequence number in the event's data). */
  n: number;
  /** The CloudEvent id (the dedupe key). */
  eventId: string;
  runId: string;
  start: number;
  /** When the handler returned, threw or stopped; absent when its process died first. */
  end?: number;
  result?: 'ok' | 'aborted' | 'threw';
}

/** How a dedupe claim ended in a replica (`KugelCommsEvents.claimSettled`). */
export interface Settlement {
  replica: string;
  key: string;
  outcome: ClaimOutcome;
  at: number;
}

/** Everything the checker reads. */
export interface History {
  /** Publishes the publisher's sidecar acknowledged: n → when. */
  acked: Map<number, number>;
  /** Publishes that failed, with their code (a timeout's may still have been delivered). */
  failedPublishes: Array<{ n: number; code: string }>;
  runs: Run[];
  settlements: Settlement[];
  /** When each replica process that was killed died (SIGKILL). */
  deaths: Map<string, number>;
  /** The dedupe record of each key at the end (`done`, `claimed`, or absent). */
  records: Map<string, 'done' | 'claimed'>;
  /** Dedupe writes whose outcome was unknown (logged by the replicas), by operation. */
  unknownDedupeWrites: Record<string, number>;
}

/** What the checker found. The first four must be 0. */
export interface HistoryReport {
  acknowledged: number;
  /** Acknowledged, and no run of it returned. */
  ackedNeverHandled: number[];
  /**
   * Returned more than once where no crash or outage explains it: a second run after the first had
   * its done mark written, or after the first's claim was lost while it ran.
   */
  handledMoreThanOnce: number[];
  /** Two runs of one event whose times overlap (a run that died ends at its process's death). */
  concurrentRuns: Array<[string, string]>;
  /** Handled (a run returned) but with no done mark in the store at the end (a crash does not explain it). */
  handledWithoutDoneMark: number[];
  /** Handled by a replica that died before its done mark was written (and no copy came since). */
  markDiedWithReplica: number[];
  /**
   * Returned twice because the first run's done mark was never written: its process died, or the
   * store failed, between the effect and the mark (the window the dedupe does not close).
   */
  rerunAfterCrashOrOutage: number[];
  /** Publishes that failed: how many were delivered anyway (their outcome had been unknown). */
  failedPublishes: { total: number; deliveredAnyway: number; notDelivered: number; codes: Record<string, number> };
  unknownDedupeWrites: Record<string, number>;
  /** How the claims ended, by outcome. */
  claimOutcomes: Record<string, number>;
  runs: number;
  aborted: number;
}

/** Reads a history and reports what went wrong (see `HistoryReport`). */
export function checkHistory(h: History): HistoryReport {
  const byN = new Map<number, Run[]>();
  for (const r of h.runs) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  const ok = (runs: Run[] | undefined) => (runs ?? []).filter((r) => r.result === 'ok');

  const ackedNeverHandled = [...h.acked.keys()].filter((n) => ok(byN.get(n)).length === 0).sort((a, b) => a - b);

  const handledMoreThanOnce: number[] = [];
  const rerunAfterCrashOrOutage: number[] = [];
  for (const [n, runs] of byN) {
    const done = ok(runs).sort((a, b) => a.end! - b.end!);
    if (done.length < 2) continue;
    // Every returned run but the last must be explained by a mark that was never written.
    const explained = done.slice(0, -1).every((r) => {
      const settled = settlementOf(h, r);
      if (settled === undefined) return h.deaths.has(r.replica);
      return settled.outcome === 'not-written';
    });
    (explained ? rerunAfterCrashOrOutage : handledMoreThanOnce).push(n);
  }

  const concurrentRuns: Array<[string, string]> = [];
  for (const runs of byN.values()) {
    for (let i = 0; i < runs.length; i += 1) {
      for (let j = i + 1; j < runs.length; j += 1) {
        const [a, b] = [runs[i], runs[j]];
        if (a.start < endOf(h, b) && b.start < endOf(h, a)) concurrentRuns.push([a.runId, b.runId]);
      }
    }
  }

  const handledWithoutDoneMark: number[] = [];
  const markDiedWithReplica: number[] = [];
  for (const [n, runs] of byN) {
    const returned = ok(runs);
    if (returned.length === 0 || h.records.get(returned[0].eventId) === 'done') continue;
    // Its replica died before its claim was settled: the mark died with it (no copy came since).
    const died = returned.every((r) => settlementOf(h, r) === undefined && h.deaths.has(r.replica));
    (died ? markDiedWithReplica : handledWithoutDoneMark).push(n);
  }
  handledWithoutDoneMark.sort((a, b) => a - b);
  markDiedWithReplica.sort((a, b) => a - b);

  const codes: Record<string, number> = {};
  let deliveredAnyway = 0;
  for (const f of h.failedPublishes) {
    codes[f.code] = (codes[f.code] ?? 0) + 1;
    if (ok(byN.get(f.n)).length > 0) deliveredAnyway += 1;
  }
  const claimOutcomes: Record<string, number> = {};
  for (const s of h.settlements) claimOutcomes[s.outcome] = (claimOutcomes[s.outcome] ?? 0) + 1;

  return {
    acknowledged: h.acked.size,
    ackedNeverHandled,
    handledMoreThanOnce: handledMoreThanOnce.sort((a, b) => a - b),
    concurrentRuns,
    handledWithoutDoneMark,
    markDiedWithReplica,
    rerunAfterCrashOrOutage: rerunAfterCrashOrOutage.sort((a, b) => a - b),
    failedPublishes: {
      total: h.failedPublishes.length,
      deliveredAnyway,
      notDelivered: h.failedPublishes.length - deliveredAnyway,
      codes,
    },
    unknownDedupeWrites: h.unknownDedupeWrites,
    claimOutcomes,
    runs: h.runs.length,
    aborted: h.runs.filter((r) => r.result === 'aborted').length,
  };
}

/** When a run stopped holding its event: its end, its process's death, or never (still running). */
function endOf(h: History, r: Run): number {
  return r.end ?? h.deaths.get(r.replica) ?? Number.POSITIVE_INFINITY;
}

/** The settlement of a run's claim: the first one its replica wrote for the key after the run ended. */
function settlementOf(h: History, r: Run): Settlement | undefined {
  return h.settlements
    .filter((s) => s.replica === r.replica && s.key === r.eventId && s.at >= r.end!)
    .sort((a, b) => a.at - b.at)[0];
}

/** The report as a markdown table (the figures `docs/reliability.md` keeps). */
export function historyTable(seed: string, faultMs: number, report: HistoryReport, faults: string[]): string {
  const rows: Array<[string, string]> = [
    ['seed (FAULT_SEED)', seed],
    ['faults injected for', `${(faultMs / 1000).toFixed(0)} s: ${faults.join(', ')}`],
    ['publishes acknowledged', String(report.acknowledged)],
    ['acknowledged but never handled', String(report.ackedNeverHandled.length)],
    ['handled more than once', String(report.handledMoreThanOnce.length)],
    ['two runs of one event at the same time', String(report.concurrentRuns.length)],
    ['handled, no done mark at the end', String(report.handledWithoutDoneMark.length)],
    [
      'handled by a replica killed before its done mark (no copy came since)',
      String(report.markDiedWithReplica.length),
    ],
    ['re-run after a crash or outage between effect and done mark', String(report.rerunAfterCrashOrOutage.length)],
    [
      'publishes failed (outcome unknown to the publisher)',
      `${report.failedPublishes.total}: delivered anyway ${report.failedPublishes.deliveredAnyway}, not delivered ${report.failedPublishes.notDelivered} (${codesText(report.failedPublishes.codes)})`,
    ],
    ['dedupe writes with an unknown outcome (resolved by read-back)', codesText(report.unknownDedupeWrites) || '0'],
    ['claims by outcome', codesText(report.claimOutcomes)],
    ['handler runs (stopped by a lost claim)', `${report.runs} (${report.aborted})`],
  ];
  return ['| check | result |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
}

function codesText(codes: Record<string, number>): string {
  return Object.entries(codes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}
