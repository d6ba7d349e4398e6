// `npm run bench`: runs the table of bench/benchmarks.ts in one process, prints every benchmark's
// tables and one PASS/FAIL line per target, and writes bench/results/latest.json. BENCH_QUICK=1
// shortens every benchmark; BENCH_SKIP_DAPR=1 leaves out those that need daprd, BENCH_SKIP_BROKERS=1
// the Kafka and RabbitMQ ones; BENCH_ONLY=key,key runs only those (keys as in latest.json). The
// sidecar is found or built before anything is measured (as `npm test` does); a bench that cannot
// have one stops with exit code 2 and says why. Exit code 1: a target was missed.
import 'reflect-metadata';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCHMARKS as ALL_BENCHMARKS, PARAMETERS, Skipped, Verdict } from './benchmarks';
import { fmt, Peer, QUICK } from './support';

const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const unknown = only.filter((key) => !ALL_BENCHMARKS.some((b) => b.key === key));
if (unknown.length > 0) {
  console.error(
    `BENCH_ONLY names no benchmark: ${unknown.join(', ')} (keys: ${ALL_BENCHMARKS.map((b) => b.key).join(', ')})`,
  );
  process.exit(2);
}
const BENCHMARKS = only.length > 0 ? ALL_BENCHMARKS.filter((b) => only.includes(b.key)) : ALL_BENCHMARKS;

/** The daprd of the Dapr benchmarks, built if needed as `npm test` does; fails before any measurement. */
async function ensureSidecar(): Promise<void> {
  const { default: prepareSidecar } = await import('../test/dapr/global-setup');
  await prepareSidecar();
  const { daprdBinary } = await import('../test/dapr/daprd');
  console.log(`daprd: ${daprdBinary()}`);
}

function git(args: string): string {
  return execSync(`git ${args}`, { cwd: path.join(__dirname, '..'), stdio: ['ignore', 'pipe', 'ignore'] })
    .toString()
    .trim();
}

function revision(): string {
  try {
    return git('status --porcelain -- lib')
      ? `${git('rev-parse --short HEAD')} (lib/ modified)`
      : git('rev-parse --short HEAD');
  } catch {
    return 'unknown';
  }
}

const isSkipped = (r: unknown): r is Skipped => typeof r === 'object' && r !== null && 'skipped' in r;

async function main(): Promise<void> {
  const started = Date.now();
  const loadavg = () => Number(os.loadavg()[0].toFixed(2));
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    revision: revision(),
    quick: QUICK,
    /** 1-minute load average before the run: other work on the machine skews every figure. */
    loadBefore: loadavg(),
    loadAfter: NaN,
  };
  console.log(
    `kugel-comms bench — Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, ${QUICK ? 'QUICK' : 'full'} run, rev ${machine.revision}, load ${machine.loadBefore}`,
  );
  const skipDapr = process.env.BENCH_SKIP_DAPR === '1';
  const skipBrokers = process.env.BENCH_SKIP_BROKERS === '1';
  if (!skipDapr && BENCHMARKS.some((b) => b.usesSidecar)) await ensureSidecar();

  const results: Record<string, unknown> = {};
  const lastPeerUser = BENCHMARKS.map((b) => b.usesPeer === true).lastIndexOf(true);
  let peer: Peer | undefined;
  for (const [i, b] of BENCHMARKS.entries()) {
    if (b.usesPeer && !peer) {
      peer = await Peer.start();
      console.log(`peer: pid ${peer.pid} on ${peer.url}`);
    }
    console.log(`\n[${i + 1}/${BENCHMARKS.length}] ${b.plan}`);
    results[b.key] =
      b.usesSidecar && skipDapr
        ? { skipped: 'BENCH_SKIP_DAPR=1' }
        : b.usesBrokers && skipBrokers
          ? { skipped: 'BENCH_SKIP_BROKERS=1' }
          : await b.measure({ peer });
    if (i === lastPeerUser) await peer?.stop();
  }

  const tables: string[] = [];
  const targets: (Verdict & { name: string })[] = [];
  for (const b of BENCHMARKS) {
    const r = results[b.key];
    tables.push(isSkipped(r) ? `${b.name}: skipped (${r.skipped})` : b.tables(r));
    for (const t of b.targets) {
      let verdict: Verdict;
      try {
        verdict = isSkipped(r) ? { pass: false, value: `skipped: ${r.skipped}` } : t.verdict(r);
      } catch (error) {
        verdict = { pass: false, value: `not measured: ${(error as Error).message}` };
      }
      targets.push({ name: t.name, ...verdict });
    }
  }
  console.log(`\n${tables.join('\n\n')}`);

  machine.loadAfter = loadavg();
  console.log(
    `\nTargets — 1-min load average ${machine.loadBefore} before the run (${machine.loadAfter} after, this bench included)`,
  );
  if (machine.loadBefore > 0.5) {
    console.log(
      'note: the machine was busy with other work; throughput ratios move with it (see the CPU-per-call ratios)',
    );
  }
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value}`);

  const seconds = (Date.now() - started) / 1000;
  const file = path.join(__dirname, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const report = {
    at: new Date().toISOString(),
    seconds,
    machine,
    parameters: PARAMETERS,
    ...results,
    targets,
    tables: tables.join('\n\n'),
  };
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const met = targets.filter((t) => t.pass).length;
  console.log(
    `\n${met}/${targets.length} targets met in ${fmt(seconds, 0)} s; wrote ${path.relative(process.cwd(), file)}`,
  );
  process.exitCode = met === targets.length ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});
