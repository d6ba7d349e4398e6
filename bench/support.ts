// Shared bench machinery: the forked peer, the load drivers and the statistics.
import { ChildProcess, fork } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PeerStats } from './peer';

export type { PeerStats };

export const QUICK = process.env.BENCH_QUICK === '1';
export const TS_NODE = ['-r', 'ts-node/register/transpile-only'];

/** The peer process (bench/peer.ts) and its IPC. */
export class Peer {
  private nextId = 1;
  private readonly waiting = new Map<number, (s: PeerStats) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (msg: { id?: number; stats?: PeerStats }) => {
      if (msg.id === undefined || !msg.stats) return;
      this.waiting.get(msg.id)?.(msg.stats);
      this.waiting.delete(msg.id);
    });
  }

  static start(): Promise<Peer> {
    const child = fork(path.join(__dirname, 'peer.ts'), [], {
      execArgv: TS_NODE,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`bench peer exited with ${code}`)));
      child.on('message', (msg: { ready?: boolean; port?: number }) => {
        if (msg.ready && msg.port) resolve(new Peer(child, msg.port));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stats(): Promise<PeerStats> {
    return this.ask('stats');
  }

  /** Zeroes the counters (the most-open-at-once count restarts from the sockets open now). */
  reset(): Promise<PeerStats> {
    return this.ask('reset');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    // Drop the start-up listener that turns an exit into a rejection.
    this.child.removeAllListeners('exit');
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }

  private ask(cmd: 'stats' | 'reset'): Promise<PeerStats> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, cmd });
    });
  }
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Latency samples in µs, shared by every run (one run at a time). */
const SAMPLES = new Float64Array(1 << 21);

export interface RunResult {
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  firstError?: string;
}

/**
 * Closed loop: `concurrency` workers call `op` back to back for `durationMs`. Each call is timed;
 * a call that throws counts as an error (and is not timed).
 */
export async function closedLoop(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<RunResult> {
  let n = 0;
  let errors = 0;
  let seq = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await op(seq++);
        if (n < SAMPLES.length) SAMPLES[n] = (performance.now() - t0) * 1000;
        n += 1;
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const lat = SAMPLES.subarray(0, Math.min(n, SAMPLES.length)).slice().sort();
  return {
    ops: n,
    errors,
    seconds,
    opsPerSec: n / seconds,
    p50Us: quantile(lat, 0.5),
    p99Us: quantile(lat, 0.99),
    firstError,
  };
}

/** Sorted-array quantile (nearest rank). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export interface Contender {
  name: string;
  op: (i: number) => Promise<unknown>;
}

export interface ContenderSummary {
  name: string;
  rounds: RunResult[];
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  /** New TCP connections the peer saw while this contender ran (all rounds). */
  connections?: number;
  /** CPU time of this (client) process per call, µs (median of rounds): steadier than ops/s on a busy machine. */
  clientCpuUsPerOp: number;
  /** The peer process' CPU use while this contender ran, % of one core (100 = the peer is the bottleneck). */
  peerCpuPct?: number;
  firstError?: string;
}

/**
 * Warm-up, then `rounds` interleaved rounds whose order rotates (A B C, B C A, C A B, ...), so
 * that no contender always runs first in a round (on a warm peer and a quiet collector) or always
 * right after the same neighbour; medians per contender. With a `peer`, its connection count and
 * CPU time are read around each slot.
 */
export async function interleaved(
  contenders: Contender[],
  o: {
    concurrency: number;
    rounds: number;
    roundMs: number;
    warmupMs: number;
    peer?: Peer;
    label?: string;
  },
): Promise<ContenderSummary[]> {
  const rounds: RunResult[][] = contenders.map(() => []);
  const conns = contenders.map(() => 0);
  const cpuPerOp: number[][] = contenders.map(() => []);
  const peerCpu = contenders.map(() => ({ us: 0, seconds: 0 }));
  for (const c of contenders) await closedLoop(c.op, o.concurrency, o.warmupMs);
  for (let r = 0; r < o.rounds; r += 1) {
    for (const i of rotation(contenders.length, r)) {
      const before = o.peer ? await o.peer.stats() : undefined;
      const cpu0 = process.cpuUsage();
      const run = await closedLoop(contenders[i].op, o.concurrency, o.roundMs);
      const cpu = process.cpuUsage(cpu0);
      rounds[i].push(run);
      cpuPerOp[i].push((cpu.user + cpu.system) / Math.max(1, run.ops));
      if (o.peer && before) {
        const after = await o.peer.stats();
        conns[i] += after.connections - before.connections;
        peerCpu[i].us += after.cpuUs - before.cpuUs;
        peerCpu[i].seconds += run.seconds;
      }
      // Let timers and sockets of the last slot settle before the next one.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (o.label) process.stdout.write(`  ${o.label}: round ${r + 1}/${o.rounds} done\n`);
  }
  return contenders.map((c, i) => ({
    name: c.name,
    rounds: rounds[i],
    opsPerSec: median(rounds[i].map((x) => x.opsPerSec)),
    p50Us: median(rounds[i].map((x) => x.p50Us)),
    p99Us: median(rounds[i].map((x) => x.p99Us)),
    errors: rounds[i].reduce((s, x) => s + x.errors, 0),
    connections: o.peer ? conns[i] : undefined,
    clientCpuUsPerOp: median(cpuPerOp[i]),
    peerCpuPct: o.peer ? (100 * peerCpu[i].us) / 1e6 / peerCpu[i].seconds : undefined,
    firstError: rounds[i].find((x) => x.firstError)?.firstError,
  }));
}

/** The slots of round `round`: 0 … n-1, rotated left by `round` (round 0: 0 1 2, round 1: 1 2 0, ...). */
export function rotation(n: number, round: number): number[] {
  return Array.from({ length: n }, (_, k) => (k + round) % n);
}

/** Fixed-width text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : NaN;
}

/**
 * The median of per-round ratios. The subscriber drains of one round run back to back, so each
 * round's ratio compares contenders under the same load; the ratio of two medians would compare
 * drains from different moments, and a drain through daprd and Redis moves a lot with the machine.
 */
export function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => ratio(x, b[i])));
}
