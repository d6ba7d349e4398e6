// The benchmarks of `npm run bench`, in the order they run: what each measures, how it prints, and
// its targets. Every ratio is taken against a baseline measured in the same run. bench/run.ts runs
// the table; each benchmark's code is in a file of its own.
import { BreakerBenchResult, BreakerCase, benchBreaker } from './breaker';
import { BULK_CONTENDERS, DaprBenchResult, benchDaprOnTestSidecar } from './dapr';
import { HttpBenchResult, benchHttp } from './http';
import { MemoryResult, runMemory } from './memory';
import { PeerDownResult, benchPeerDown } from './peer-down';
import { RealtimeBenchResult, benchRealtime } from './realtime';
import { BenchBroker, SubscriptionBenchResult, benchSubscriptions } from './subscriptions';
import { ContenderSummary, fmt, median, pairedRatio, Peer, QUICK, ratio } from './support';
import {
  breakerTable,
  daprTables,
  httpTables,
  memoryTable,
  peerDownTable,
  realtimeTables,
  subscriptionTables,
} from './tables';

/** The sizes of a run: `BENCH_QUICK=1` shortens every benchmark (a run of under a minute). */
export const PARAMETERS = {
  concurrency: 32,
  peerDownRate: 600,
  ...(QUICK
    ? {
        rounds: 3,
        roundMs: 400,
        warmupMs: 250,
        daprRoundMs: 300,
        breakerCalls: 5_000,
        downRounds: 1,
        downMs: 1_000,
        memRequests: 20_000,
        subscriberEvents: 500,
        subscriberRounds: 2,
        brokerEvents: 300,
        brokerRounds: 1,
        wsRounds: 3,
        wsMessages: 20_000,
      }
    : {
        rounds: 8,
        roundMs: 1_000,
        warmupMs: 1_000,
        daprRoundMs: 600,
        breakerCalls: 20_000,
        downRounds: 3,
        downMs: 2_000,
        memRequests: 100_000,
        subscriberEvents: 3_000,
        subscriberRounds: 6,
        brokerEvents: 1_000,
        brokerRounds: 3,
        wsRounds: 7,
        wsMessages: 100_000,
      }),
};
const P = PARAMETERS;

/** A benchmark that was not run, and why (its targets then print FAIL ... skipped). */
export interface Skipped {
  skipped: string;
}

export interface Verdict {
  pass: boolean;
  value: string;
}

export interface Target<R> {
  name: string;
  verdict: (result: R) => Verdict;
}

export interface Benchmark<R = any> {
  /** Its heading in the output and its key in bench/results/latest.json. */
  name: string;
  key: string;
  /** What one run does, printed before it starts. */
  plan: string;
  /** Runs while the forked REST peer (bench/peer.ts) is up. */
  usesPeer?: boolean;
  /** Needs daprd: left out with BENCH_SKIP_DAPR=1. */
  usesSidecar?: boolean;
  /** Starts Kafka or RabbitMQ (prepared by `test/prepare.sh kafka rabbitmq`): left out with BENCH_SKIP_BROKERS=1. */
  usesBrokers?: boolean;
  measure: (ctx: { peer?: Peer }) => Promise<R | Skipped>;
  tables: (result: R) => string;
  targets: Target<R>[];
}

/** The throughput target is the ratio; the CPU-per-call ratio beside it moves far less on a busy machine. */
function byCpu(k: ContenderSummary, base: ContenderSummary): string {
  return `(by CPU per call: ${fmt(ratio(base.clientCpuUsPerOp, k.clientCpuUsPerOp), 2)}×)`;
}

function errorCount(list: { errors: number }[]): number {
  return list.reduce((s, c) => s + c.errors, 0);
}

function named<T extends { name: string }>(list: T[], name: string): T {
  const found = list.find((c) => c.name === name);
  if (!found) throw new Error(`no result named "${name}"`);
  return found;
}

function kugelAgainst(r: HttpBenchResult, baseline: string, min: number): Verdict {
  const k = named(r.contenders, 'kugel HttpClientHelper');
  const b = named(r.contenders, baseline);
  const x = ratio(k.opsPerSec, b.opsPerSec);
  return { pass: x >= min && errorCount(r.contenders) === 0, value: `${fmt(x, 2)}× ${byCpu(k, b)}` };
}

function daprOp(op: string): Target<DaprBenchResult> {
  return {
    name: `Dapr ${op} ops/s: kugel ≥ 1.0 × @dapr/dapr`,
    verdict: (r) => {
      const list = r.ops.find((o) => o.op === op)?.contenders ?? [];
      const k = named(list, 'kugel DaprClientHelper');
      const d = named(list, '@dapr/dapr DaprClient (HTTP)');
      const x = ratio(k.opsPerSec, d.opsPerSec);
      const errors = errorCount(list);
      return {
        pass: x >= 1.0 && errors === 0,
        value: `${fmt(x, 2)}× ${byCpu(k, d)}${errors ? ` (${errors} errors)` : ''}`,
      };
    },
  };
}

function kugelSubscriber(r: SubscriptionBenchResult, baseline: string, min: number): Verdict {
  const k = named(r.contenders, 'kugel @DaprSubscribe');
  const b = named(r.contenders, baseline);
  const x = pairedRatio(k.rounds, b.rounds);
  return {
    pass: x >= min,
    value: `${fmt(x, 2)}× (by CPU per event: ${fmt(ratio(b.cpuUsPerEvent, k.cpuUsPerEvent), 2)}×)`,
  };
}

function breakerCase(name: string): Target<BreakerBenchResult>[] {
  const c = (r: BreakerBenchResult): BreakerCase => named(r.cases, name);
  return [
    {
      name: `Open breaker, ${name}: rejection p99 ≤ 50 µs`,
      verdict: (r) => ({
        pass: c(r).p99Us <= 50,
        value: `p99 ${fmt(c(r).p99Us, 1)} µs (p50 ${fmt(c(r).p50Us, 1)} µs)`,
      }),
    },
    {
      name: `Open breaker, ${name}: no socket opened`,
      verdict: (r) => ({
        pass: c(r).connections === 0 && c(r).probeVerified,
        value: `${c(r).connections} connections${c(r).probeVerified ? ' (listener verified by a control connection)' : ' (listener NOT verified)'}`,
      }),
    },
  ];
}

/** Subscribers through daprd and a broker; a drain or a broker that cannot start is reported, not thrown. */
async function runSubscriptions(broker: BenchBroker = 'redis-streams'): Promise<SubscriptionBenchResult | Skipped> {
  try {
    const events = broker === 'redis-streams' ? P.subscriberEvents : P.brokerEvents;
    const rounds = broker === 'redis-streams' ? P.subscriberRounds : P.brokerRounds;
    return await benchSubscriptions({ events, rounds, broker });
  } catch (error) {
    if (process.env.BENCH_VERBOSE === '1') console.error(error);
    return { skipped: (error as Error).message.split('\n')[0] };
  }
}

/** The same subscribers through Kafka or RabbitMQ, against the SDK's DaprServer on the same broker. */
function brokerSubscriptions(broker: 'kafka' | 'rabbitmq', label: string): Benchmark {
  return define<SubscriptionBenchResult>({
    name: `Subscriptions (${label})`,
    key: `subscriptions-${broker}`,
    plan: `subscriptions through a real daprd and ${label} (started by the bench), ${P.brokerEvents} events per drain, ${P.brokerRounds} interleaved rounds`,
    usesSidecar: true,
    usesBrokers: true,
    measure: () => runSubscriptions(broker),
    tables: subscriptionTables,
    targets: [
      {
        name: `Subscriptions through ${label}: events handled/s ≥ 0.9 × @dapr/dapr DaprServer`,
        verdict: (r) => kugelSubscriber(r, '@dapr/dapr DaprServer', 0.9),
      },
    ],
  });
}

function define<R>(b: Benchmark<R>): Benchmark {
  return b;
}

export const BENCHMARKS: Benchmark[] = [
  define<HttpBenchResult>({
    name: 'REST GET',
    key: 'http',
    plan: `REST GET, ${P.concurrency} in flight, ${P.rounds} interleaved rounds × ${P.roundMs} ms per contender`,
    usesPeer: true,
    measure: ({ peer }) =>
      benchHttp(peer!, {
        concurrency: P.concurrency,
        rounds: P.rounds,
        roundMs: P.roundMs,
        warmupMs: P.warmupMs,
      }),
    tables: httpTables,
    targets: [
      {
        name: 'REST GET throughput: kugel ≥ 1.5 × default axios',
        verdict: (r) => kugelAgainst(r, 'axios default instance', 1.5),
      },
      {
        name: 'REST GET throughput: kugel ≥ 0.5 × raw node:http',
        verdict: (r) => kugelAgainst(r, 'raw node:http (keep-alive agent)', 0.5),
      },
    ],
  }),
  define<BreakerBenchResult>({
    name: 'Open breaker',
    key: 'breaker',
    plan: `open breaker, ${P.breakerCalls} sequential refused calls per case`,
    measure: () => benchBreaker({ calls: P.breakerCalls, warmup: 2_000 }),
    tables: breakerTable,
    targets: [
      ...breakerCase('ServiceClient.get (breaker open)'),
      ...breakerCase('DaprClientHelper.getState (breaker open)'),
    ],
  }),
  define<PeerDownResult>({
    name: 'Peer down',
    key: 'peerDown',
    plan: `peer down (503), ${P.peerDownRate} calls/s offered, ${P.downRounds} round(s) × ${P.downMs} ms per contender`,
    usesPeer: true,
    measure: ({ peer }) => benchPeerDown(peer!, { rate: P.peerDownRate, rounds: P.downRounds, roundMs: P.downMs }),
    tables: peerDownTable,
    targets: [
      {
        name: 'Peer down at ≥ 500 calls/s: attempts per call ≤ 1.2',
        verdict: ({ kugel, axiosRetry }) => ({
          pass:
            kugel.attemptsPerCall <= 1.2 &&
            kugel.callsPerSec >= 500 &&
            kugel.rounds.every((r) => r.unexpectedSuccesses === 0),
          value: `${fmt(kugel.attemptsPerCall, 2)} at ${fmt(kugel.callsPerSec)} calls/s (plain retries: ${fmt(axiosRetry.attemptsPerCall, 2)})`,
        }),
      },
    ],
  }),
  define<MemoryResult>({
    name: 'Memory',
    key: 'memory',
    plan: `${P.memRequests} GETs through HttpClientHelper (child process, --expose-gc)`,
    measure: () => runMemory(P.memRequests),
    tables: memoryTable,
    targets: [
      {
        name: `${fmt(P.memRequests)} requests: heap growth ≤ 10 MB`,
        verdict: (r) => ({
          pass: r.gcExposed && r.heapGrowthMB <= 10 && r.errors === 0,
          value: `${fmt(r.heapGrowthMB, 2)} MB${r.gcExposed ? '' : ' (gc not exposed)'}${r.errors ? `, ${r.errors} errors` : ''}`,
        }),
      },
      {
        name: `${fmt(P.memRequests)} requests: open sockets never exceed maxSockets`,
        verdict: (r) => ({
          pass: r.maxOpenAtPeer <= r.maxSockets && r.errors === 0,
          value: `max ${r.maxOpenAtPeer} open at once, maxSockets ${r.maxSockets}${r.errors ? `, ${r.errors} errors` : ''}`,
        }),
      },
    ],
  }),
  define<DaprBenchResult>({
    name: 'Dapr',
    key: 'dapr',
    plan: `Dapr against a real daprd (in-memory components), ${P.concurrency} in flight, ${P.rounds} rounds × ${P.daprRoundMs} ms`,
    usesSidecar: true,
    measure: () =>
      benchDaprOnTestSidecar({
        concurrency: P.concurrency,
        rounds: P.rounds,
        roundMs: P.daprRoundMs,
        warmupMs: P.warmupMs,
      }),
    tables: daprTables,
    targets: [
      daprOp('publish'),
      daprOp('saveState'),
      daprOp('getState'),
      {
        // The baseline is 100 single publishes as a loop sends them (a batch job); with all 100 in
        // flight at once the ratio is printed beside it.
        name: 'Dapr bulk publish of 100 events ≥ 5 × 100 single publishes',
        verdict: ({ bulk }) => {
          const b = named(bulk.contenders, BULK_CONTENDERS.bulk);
          const seq = named(bulk.contenders, BULK_CONTENDERS.sequential);
          const par = named(bulk.contenders, BULK_CONTENDERS.parallel);
          const errors = errorCount(bulk.contenders);
          return {
            pass: ratio(b.opsPerSec, seq.opsPerSec) >= 5 && errors === 0,
            value: `${fmt(ratio(b.opsPerSec, seq.opsPerSec), 2)}× (all 100 in flight at once: ${fmt(ratio(b.opsPerSec, par.opsPerSec), 2)}×)${errors ? ` (${errors} errors)` : ''}`,
          };
        },
      },
    ],
  }),
  define<SubscriptionBenchResult>({
    name: 'Subscriptions',
    key: 'subscriptions',
    plan: `subscriptions through a real daprd (Redis Streams), ${P.subscriberEvents} events per drain, ${P.subscriberRounds} interleaved rounds`,
    usesSidecar: true,
    measure: () => runSubscriptions(),
    tables: subscriptionTables,
    targets: [
      {
        name: 'Subscriptions: events handled/s ≥ 1.0 × @dapr/dapr DaprServer',
        verdict: (r) => kugelSubscriber(r, '@dapr/dapr DaprServer', 1.0),
      },
      {
        name: 'Subscriptions: events handled/s ≥ 0.9 × bare Nest controller',
        verdict: (r) => kugelSubscriber(r, 'bare Nest controller', 0.9),
      },
      {
        name: 'Subscriptions with dedupe: ≤ 2 sidecar round trips per event',
        verdict: ({ dedupe, events }) =>
          dedupe
            ? {
                pass: Math.max(dedupe.callsPerNewEvent, dedupe.callsPerCopy) <= 2 && dedupe.copiesSuppressed === events,
                value: `${fmt(dedupe.callsPerNewEvent, 2)} per new event, ${fmt(dedupe.callsPerCopy, 2)} per copy`,
              }
            : { pass: false, value: 'not measured' },
      },
    ],
  }),
  brokerSubscriptions('kafka', 'Kafka'),
  brokerSubscriptions('rabbitmq', 'RabbitMQ'),
  define<RealtimeBenchResult>({
    name: 'WebSocket',
    key: 'realtime',
    plan: `WebSocket: ${P.wsRounds} interleaved rounds × ${fmt(P.wsMessages)} messages over one connection; reconnects after ${P.wsRounds} peer restarts`,
    measure: () => benchRealtime({ rounds: P.wsRounds, messages: P.wsMessages }),
    tables: realtimeTables,
    targets: [
      {
        name: 'WebSocket messages/s over one connection: kugel ≥ 0.8 × bare ws',
        verdict: ({ contenders: [bare, kugel], contenders }) => ({
          pass: ratio(kugel.msgsPerSec, bare.msgsPerSec) >= 0.8 && contenders.every((c) => c.errors === 0),
          value: `${fmt(ratio(kugel.msgsPerSec, bare.msgsPerSec), 2)}× (by CPU per message: ${fmt(ratio(bare.cpuUsPerMsg, kugel.cpuUsPerMsg), 2)}×)`,
        }),
      },
      {
        name: 'WebSocket reconnect after a peer restart within the first backoff step + the handshake',
        verdict: ({ reconnect: rc }) => {
          const dropToOpen = median(rc.dropToOpenMs);
          const handshake = median(rc.freshConnectMs);
          const bound = rc.initialDelayMs + handshake;
          const first = rc.attempts.filter((a) => a === 1).length;
          return {
            pass: first === rc.attempts.length && dropToOpen <= bound,
            value: `median ${fmt(dropToOpen, 1)} ms ≤ ${fmt(bound, 1)} ms (${rc.initialDelayMs} ms + ${fmt(handshake, 1)} ms), ${first}/${rc.restarts} on the first attempt`,
          };
        },
      },
    ],
  }),
];
