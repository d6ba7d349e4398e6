// The tables `npm run bench` prints, one function per benchmark; each reads only its result.
import type { BreakerBenchResult } from './breaker';
import { BULK_CONTENDERS, DaprBenchResult } from './dapr';
import type { HttpBenchResult } from './http';
import type { MemoryResult } from './memory';
import type { PeerDownResult } from './peer-down';
import type { RealtimeBenchResult } from './realtime';
import type { SubscriptionBenchResult } from './subscriptions';
import { ContenderSummary, fmt, median, pairedRatio, ratio, table } from './support';

/** Throughput rows with a ratio column per baseline (and the peer's columns for REST). */
function contenderRows(list: ContenderSummary[], baselines: string[], withPeer: boolean): (string | number)[][] {
  return list.map((c) => {
    const row: (string | number)[] = [c.name, fmt(c.opsPerSec), fmt(c.p50Us), fmt(c.p99Us), fmt(c.clientCpuUsPerOp)];
    if (withPeer)
      row.push(
        c.peerCpuPct === undefined ? '-' : fmt(c.peerCpuPct),
        c.connections === undefined ? '-' : fmt(c.connections),
      );
    for (const name of baselines) {
      const base = list.find((x) => x.name === name);
      row.push(base ? `${fmt(ratio(c.opsPerSec, base.opsPerSec), 2)}×` : '-');
    }
    if (c.errors) row.push(`${c.errors} errors: ${c.firstError}`);
    return row;
  });
}

export function httpTables(r: HttpBenchResult): string {
  return [
    `REST GET /item (${r.concurrency} in flight; medians of ${r.rounds} rounds; CPU µs/req = client process CPU per request; peer CPU % of one core; conns = new TCP connections at the peer)`,
    table(
      [
        'contender',
        'req/s',
        'p50 µs',
        'p99 µs',
        'CPU µs/req',
        'peer CPU %',
        'conns',
        'vs axios default',
        'vs raw node:http',
      ],
      contenderRows(r.contenders, ['axios default instance', 'raw node:http (keep-alive agent)'], true),
    ),
    `Node ${process.version} http.globalAgent: keepAlive=${r.globalAgent.keepAlive}, maxSockets=${r.globalAgent.maxSockets} (what a default axios instance uses)`,
  ].join('\n');
}

export function daprTables(r: DaprBenchResult): string {
  const out: string[] = [];
  for (const op of r.ops) {
    out.push(
      `Dapr ${op.op} (${r.concurrency} in flight; medians of ${r.rounds} rounds; CPU µs/op = client process CPU per operation)`,
      table(
        ['contender', 'ops/s', 'p50 µs', 'p99 µs', 'CPU µs/op', 'vs @dapr/dapr', 'vs raw node:http'],
        contenderRows(op.contenders, ['@dapr/dapr DaprClient (HTTP)', 'raw node:http (keep-alive agent)'], false),
      ),
      '',
    );
  }
  const b = r.bulk;
  const seq = b.contenders.find((c) => c.name === BULK_CONTENDERS.sequential)!;
  out.push(
    `Dapr bulk publish: ${b.eventsPerOp} events per batch, one batch at a time (medians of ${r.rounds} rounds; events/s = batches/s × ${b.eventsPerOp}; CPU µs/event = client process CPU)`,
    table(
      ['contender', 'events/s', 'p50 ms/batch', 'p99 ms/batch', 'CPU µs/event', 'vs one after another'],
      b.contenders.map((c) => [
        c.name,
        fmt(c.opsPerSec * b.eventsPerOp),
        fmt(c.p50Us / 1000, 2),
        fmt(c.p99Us / 1000, 2),
        fmt(c.clientCpuUsPerOp / b.eventsPerOp, 1),
        `${fmt(ratio(c.opsPerSec, seq.opsPerSec), 2)}×`,
      ]),
    ),
  );
  return out.join('\n');
}

const BROKER_LABEL: Record<SubscriptionBenchResult['broker'], string> = {
  'redis-streams': "Redis Streams, daprd's 10 workers",
  kafka: 'Kafka, one partition: deliveries one at a time',
  rabbitmq: 'RabbitMQ, durable queue, deliveries in parallel',
};

export function subscriptionTables(r: SubscriptionBenchResult): string {
  const sdk = r.contenders.find((c) => c.name === '@dapr/dapr DaprServer')!;
  const bare = r.contenders.find((c) => c.name === 'bare Nest controller')!;
  return [
    `Subscriptions: events handled per second through daprd (${BROKER_LABEL[r.broker]}), ${r.events} events already in the broker per drain, first delivery to last; medians of ${r.rounds} rounds; ratios = median of per-round ratios; CPU µs/event = this process, where every contender's app runs`,
    table(
      ['subscriber', 'events/s', 'rounds', 'CPU µs/event', 'vs DaprServer', 'vs bare Nest'],
      r.contenders.map((c) => [
        c.name,
        fmt(c.eventsPerSec),
        c.rounds.map((x) => fmt(x)).join(' '),
        fmt(c.cpuUsPerEvent),
        `${fmt(pairedRatio(c.rounds, sdk.rounds), 2)}×`,
        `${fmt(pairedRatio(c.rounds, bare.rounds), 2)}×`,
      ]),
    ),
    r.dedupe
      ? `dedupe (Redis state store): ${fmt(r.dedupe.eventsPerSec)} events/s; sidecar round trips per new event ${fmt(r.dedupe.callsPerNewEvent, 2)}, per copy of a handled event ${fmt(r.dedupe.callsPerCopy, 2)} (${r.dedupe.copiesSuppressed} copies suppressed)`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function breakerTable(r: BreakerBenchResult): string {
  return [
    'Open breaker (sequential calls; conns = connections accepted on the dead port after the breaker opened)',
    table(
      ['case', 'calls', 'p50 µs', 'p99 µs', 'max µs', 'conns', 'probe ok', 'state'],
      r.cases.map((c) => [
        c.name,
        fmt(c.calls),
        fmt(c.p50Us, 1),
        fmt(c.p99Us, 1),
        fmt(c.maxUs, 0),
        c.connections,
        c.probeVerified ? 'yes' : 'NO',
        c.state,
      ]),
    ),
  ].join('\n');
}

export function peerDownTable(r: PeerDownResult): string {
  const row = (name: string, c: PeerDownResult['kugel']) => [
    name,
    fmt(c.callsPerSec),
    fmt(c.rounds.reduce((s, x) => s + x.calls, 0)),
    fmt(c.rounds.reduce((s, x) => s + x.attempts, 0)),
    fmt(c.attemptsPerCall, 2),
  ];
  return [
    `Peer down: every answer 503, ${r.offeredPerSec} calls/s offered (attempts counted at the peer; median of ${r.kugel.rounds.length} round(s))`,
    table(
      ['client', 'calls/s', 'calls', 'attempts', 'attempts/call'],
      [row('kugel (3 retries + retry budget)', r.kugel), row('axios + axios-retry (3 retries)', r.axiosRetry)],
    ),
  ].join('\n');
}

export function memoryTable(r: MemoryResult): string {
  return [
    `Memory: ${fmt(r.requests)} GETs, ${r.concurrency} callers, maxSockets ${r.maxSockets}, ${fmt(r.seconds, 1)} s`,
    table(
      [
        'heap before MB',
        'heap after MB',
        'heap growth MB',
        'rss growth MB',
        'max open sockets at peer',
        'connections',
        'errors',
      ],
      [
        [
          fmt(r.heapBeforeMB, 1),
          fmt(r.heapAfterMB, 1),
          fmt(r.heapGrowthMB, 2),
          fmt(r.rssGrowthMB, 1),
          r.maxOpenAtPeer,
          r.connectionsAtPeer,
          r.errors,
        ],
      ],
    ),
  ].join('\n');
}

export function realtimeTables(r: RealtimeBenchResult): string {
  const bare = r.contenders[0];
  const rc = r.reconnect;
  const row = (name: string, values: number[], digits: number) => [
    name,
    fmt(median(values), digits),
    fmt(Math.max(...values), digits),
  ];
  return [
    `WebSocket, one connection: ${fmt(r.messages)} messages of ${r.messageBytes} bytes per round, 100 per turn of the event loop (medians of ${bare.rounds.length} rounds; kugel holds at most sendBufferSize messages unconfirmed and finishes when all are confirmed)`,
    table(
      ['contender', 'msgs/s', 'CPU µs/msg', 'vs bare ws'],
      r.contenders.map((c) => [
        c.name,
        fmt(c.msgsPerSec),
        fmt(c.cpuUsPerMsg, 2),
        `${fmt(ratio(c.msgsPerSec, bare.msgsPerSec), 2)}×${c.errors ? ` (${c.errors} rounds short)` : ''}`,
      ]),
    ),
    '',
    `WebSocket reconnect after the peer restarts on its port (${rc.restarts} restarts; first backoff step ${rc.initialDelayMs} ms minus up to 20 % jitter)`,
    table(
      ['measure', 'median ms', 'max ms'],
      [
        row('delay chosen for the first attempt', rc.scheduledMs, 1),
        row('drop → open again', rc.dropToOpenMs, 1),
        row('fresh connect() → open (the handshake)', rc.freshConnectMs, 1),
        row('attempts per reconnect', rc.attempts, 0),
      ],
    ),
  ].join('\n');
}
