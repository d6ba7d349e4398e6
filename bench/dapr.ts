// Dapr publish / save / get ops/s: DaprClientHelper vs the official @dapr/dapr client (HTTP)
// vs raw node:http, against one real daprd (in-memory state store and pub/sub).
import 'reflect-metadata';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import * as http from 'node:http';
import { DaprClientHelper } from '../lib';
import { bootKugel } from './http';
import { ContenderSummary, interleaved } from './support';

export interface DaprBenchResult {
  endpoint: string;
  concurrency: number;
  rounds: number;
  roundMs: number;
  ops: { op: 'publish' | 'saveState' | 'getState'; contenders: ContenderSummary[] }[];
  /** 100 events per op: one publishBulk call against 100 publishEvent calls (ops/s × 100 = events/s). */
  bulk: { eventsPerOp: number; contenders: ContenderSummary[] };
}

/** The names of the bulk contenders (the bulk publish target of bench/benchmarks.ts reads them). */
export const BULK_CONTENDERS = {
  bulk: 'publishBulk: one call of 100 events',
  sequential: '100 × publishEvent, one after another',
  parallel: '100 × publishEvent, all in flight at once',
} as const;

const EVENT = { eventType: 'cart.updated', cartId: 'c-0001', total: 1280, items: 3 };
const VALUE = {
  cartId: 'c-0001',
  status: 'open',
  total: 1280,
  lines: [{ sku: '4901234567894', qty: 2 }],
};

/** One keep-alive node:http call to the sidecar; resolves to the body text. */
function raw(agent: http.Agent, port: number, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {};
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 300) return reject(new Error(`HTTP ${status}`));
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function must(ok: boolean, what: string): void {
  if (!ok) throw new Error(`${what} failed`);
}

/** `benchDapr` against a test daprd with in-memory components (test/dapr/daprd.ts), started for it. */
export async function benchDaprOnTestSidecar(o: Parameters<typeof benchDapr>[1]): Promise<DaprBenchResult> {
  const { Daprd } = await import('../test/dapr/daprd');
  const daprd = await Daprd.start({ components: 'in-memory', appId: 'kugel-bench' });
  try {
    return await benchDapr(daprd.httpEndpoint, o);
  } finally {
    await daprd.dispose();
  }
}

export async function benchDapr(
  endpoint: string,
  o: { concurrency: number; rounds: number; roundMs: number; warmupMs: number },
): Promise<DaprBenchResult> {
  const port = Number(new URL(endpoint).port);
  const app = await bootKugel({ dapr: { httpEndpoint: endpoint } });
  const kugel = app.get(DaprClientHelper);
  if (!(await kugel.waitForSidecar(10_000))) throw new Error(`daprd at ${endpoint} is not ready`);

  const official = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(port),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: { level: LogLevel.Error },
  });
  await official.start();
  const agent = new http.Agent({ keepAlive: true });

  const KEYS = 64;
  const getKey = 'bench-get';
  must(await kugel.saveState('statestore', getKey, VALUE), 'seed state');

  const ops: DaprBenchResult['ops'] = [];
  const eventJson = JSON.stringify(EVENT);

  ops.push({
    op: 'publish',
    contenders: await interleaved(
      [
        {
          name: 'kugel DaprClientHelper',
          op: async () => must(await kugel.publishEvent('pubsub', 'bench', EVENT), 'publish'),
        },
        {
          name: '@dapr/dapr DaprClient (HTTP)',
          op: async () => {
            const r = await official.pubsub.publish('pubsub', 'bench', EVENT);
            if (r.error) throw r.error;
          },
        },
        {
          name: 'raw node:http (keep-alive agent)',
          op: () => raw(agent, port, 'POST', '/v1.0/publish/pubsub/bench', eventJson),
        },
      ],
      { ...o, label: 'Dapr publish' },
    ),
  });

  ops.push({
    op: 'saveState',
    contenders: await interleaved(
      [
        {
          name: 'kugel DaprClientHelper',
          op: async (i) => must(await kugel.saveState('statestore', `bench-${i % KEYS}`, VALUE), 'saveState'),
        },
        {
          name: '@dapr/dapr DaprClient (HTTP)',
          op: async (i) => {
            const r = await official.state.save('statestore', [{ key: `bench-${i % KEYS}`, value: VALUE }]);
            if (r.error) throw r.error;
          },
        },
        {
          name: 'raw node:http (keep-alive agent)',
          op: (i) =>
            raw(
              agent,
              port,
              'POST',
              '/v1.0/state/statestore',
              JSON.stringify([{ key: `bench-${i % KEYS}`, value: VALUE }]),
            ),
        },
      ],
      { ...o, label: 'Dapr saveState' },
    ),
  });

  ops.push({
    op: 'getState',
    contenders: await interleaved(
      [
        {
          name: 'kugel DaprClientHelper',
          op: async () => must((await kugel.getState('statestore', getKey)) !== null, 'getState'),
        },
        {
          name: '@dapr/dapr DaprClient (HTTP)',
          op: async () => must((await official.state.get('statestore', getKey)) != null, 'getState'),
        },
        {
          name: 'raw node:http (keep-alive agent)',
          op: async () => JSON.parse(await raw(agent, port, 'GET', `/v1.0/state/statestore/${getKey}`)),
        },
      ],
      { ...o, label: 'Dapr getState' },
    ),
  });

  // 100 events, three ways, one batch at a time (what a republisher pass or a batch job does).
  const BATCH = 100;
  const entries = Array.from({ length: BATCH }, (_, i) => ({ event: EVENT, eventId: `bulk-bench-${i}` }));
  const bulk = {
    eventsPerOp: BATCH,
    contenders: await interleaved(
      [
        {
          name: BULK_CONTENDERS.bulk,
          op: async () => {
            const r = await kugel.detailed.publishBulk('pubsub', 'bench', entries);
            must(r.ok && r.published.length === BATCH, 'publishBulk');
          },
        },
        {
          name: BULK_CONTENDERS.sequential,
          op: async () => {
            for (const e of entries) must(await kugel.publishEvent('pubsub', 'bench', e.event, e), 'publish');
          },
        },
        {
          name: BULK_CONTENDERS.parallel,
          op: async () => {
            const done = await Promise.all(entries.map((e) => kugel.publishEvent('pubsub', 'bench', e.event, e)));
            must(done.every(Boolean), 'publish');
          },
        },
      ],
      { ...o, concurrency: 1, label: 'Dapr bulk publish' },
    ),
  };

  await app.close();
  await official.stop();
  agent.destroy();
  return { endpoint, concurrency: o.concurrency, rounds: o.rounds, roundMs: o.roundMs, ops, bulk };
}
