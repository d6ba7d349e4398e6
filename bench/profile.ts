// Diagnostics behind docs/benchmarks.md (not part of `npm run bench`):
//   node -r ts-node/register/transpile-only bench/profile.ts breakdown
//     CPU per request of each layer of a kugel GET, from the bare adapter up to ServiceClient.
//   node -r ts-node/register/transpile-only bench/profile.ts dapr-breakdown
//     the same for a state read from a real daprd, beside @dapr/dapr's state.get and a save.
//   node --cpu-prof --cpu-prof-dir=.tmp/prof -r ts-node/register/transpile-only bench/profile.ts <case> [ms]
//     one contender alone, for a CPU profile; cases: kugel-get | axios-get | raw-get | breaker-open |
//     dapr-get-kugel | dapr-get-official
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import axios, { AxiosHeaders, InternalAxiosRequestConfig } from 'axios';
import axiosRetry from 'axios-retry';
import * as http from 'node:http';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { CircuitBreaker, CircuitState, DaprClientHelper, HttpClientHelper, KugelCommsEvents } from '../lib';
import { DEFAULTS } from '../lib/options/defaults';
import { createNodeHttpAdapter } from '../lib/transport/node-http.adapter';
import { RetryBudget } from '../lib/transport/retry-budget';
import { createTransport } from '../lib/transport/transport';
import { bootKugel } from './http';
import { closedLoop, closedPort, median, Peer, rotation } from './support';

const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 64, scheduling: 'lifo', timeout: 4_000 });

/** Each layer alone, interleaved; client CPU µs per request (steadier than req/s). */
async function breakdown(
  peer: Peer,
  kugel: ReturnType<HttpClientHelper['getServiceClient']>,
  events: KugelCommsEvents,
): Promise<void> {
  const adapter = createNodeHttpAdapter(peer.url, keepAlive());
  // The axios options createTransport uses, without its interceptors.
  const options = (a: ReturnType<typeof createNodeHttpAdapter>) => ({
    adapter: a,
    timeout: 30_000,
    maxRedirects: 0,
    allowAbsoluteUrls: false,
    proxy: false as const,
    headers: { Accept: 'application/json' },
    transformRequest: [(d: unknown) => d],
    transformResponse: [(d: unknown) => JSON.parse(d as string)],
  });
  const bare = axios.create(options(createNodeHttpAdapter(peer.url, keepAlive())));
  const withRetry = axios.create(options(createNodeHttpAdapter(peer.url, keepAlive())));
  axiosRetry(withRetry, { retries: 3 });
  const transport = createTransport({
    client: 'breakdown',
    baseUrl: peer.url,
    ...DEFAULTS.http,
    budget: new RetryBudget(DEFAULTS.retryBudget),
    breakerGuard: false,
    parsing: 'json',
    propagateTrace: true,
    events,
    logger: new Logger('breakdown'),
  });
  const config = {
    url: '/item',
    method: 'get',
    timeout: 30_000,
    headers: AxiosHeaders.from({ Accept: 'application/json' }),
  } as InternalAxiosRequestConfig;
  const layers: [string, () => Promise<unknown>][] = [
    ['node:http adapter alone', async () => JSON.parse((await adapter(config)).data as string)],
    ['+ axios core', () => bare.request({ method: 'GET', url: '/item' })],
    ['+ axios-retry', () => withRetry.request({ method: 'GET', url: '/item' })],
    [
      '+ kugel call runner (createTransport)',
      () => transport.runner.run({ method: 'GET', url: '/item' }, { route: '/item', repeatable: true }),
    ],
    ['+ ServiceClient (= HttpClientHelper)', () => kugel.get('/item')],
  ];
  for (const [, op] of layers) await closedLoop(op, 32, 800);
  const cpu: number[][] = layers.map(() => []);
  const rate: number[][] = layers.map(() => []);
  for (let r = 0; r < 5; r += 1) {
    for (let i = 0; i < layers.length; i += 1) {
      const c0 = process.cpuUsage();
      const run = await closedLoop(layers[i][1], 32, 1_000);
      const c = process.cpuUsage(c0);
      cpu[i].push((c.user + c.system) / run.ops);
      rate[i].push(run.opsPerSec);
    }
  }
  let previous = 0;
  for (let i = 0; i < layers.length; i += 1) {
    const us = median(cpu[i]);
    console.log(
      `${layers[i][0].padEnd(40)} ${us.toFixed(0).padStart(4)} CPU µs/req${i ? ` (+${(us - previous).toFixed(0)})` : ''}  ${Math.round(median(rate[i]))} req/s`,
    );
    previous = us;
  }
  transport.destroy();
}

/** Interleaved rounds with a rotating order; prints client CPU µs per call and calls/s, medians of the rounds. */
async function compare(layers: [string, () => Promise<unknown>][], rounds: number, roundMs: number): Promise<void> {
  for (const [, op] of layers) await closedLoop(op, 32, 500);
  const cpu: number[][] = layers.map(() => []);
  const rate: number[][] = layers.map(() => []);
  for (let r = 0; r < rounds; r += 1) {
    for (const i of rotation(layers.length, r)) {
      const c0 = process.cpuUsage();
      const run = await closedLoop(layers[i][1], 32, roundMs);
      const c = process.cpuUsage(c0);
      if (run.errors) throw new Error(`${layers[i][0]}: ${run.firstError}`);
      cpu[i].push((c.user + c.system) / run.ops);
      rate[i].push(run.opsPerSec);
    }
  }
  for (let i = 0; i < layers.length; i += 1) {
    console.log(
      `${layers[i][0].padEnd(52)} ${median(cpu[i]).toFixed(0).padStart(4)} CPU µs/call  ${Math.round(median(rate[i]))} calls/s`,
    );
  }
}

/**
 * A state read from a real daprd (in-memory store, an 86-byte value), layer by layer, beside the
 * official client and a save. The kugel transport is shown twice: handing axios every response
 * header (as it did before the sidecar client asked for the ETag only) and the ETag only.
 */
async function daprBreakdown(rounds = 9, roundMs = 600): Promise<void> {
  const { daprd, app, kugel, official, value, close } = await daprSetup();
  const url = daprd.httpEndpoint;
  const path = '/v1.0/state/statestore/profile-get';
  const transport = (responseHeaders?: string[]) =>
    createTransport({
      client: 'dapr',
      baseUrl: url,
      ...DEFAULTS.http,
      ...DEFAULTS.dapr,
      breakerGuard: true,
      parsing: 'lenient',
      responseHeaders,
      propagateTrace: true,
      events: app.get(KugelCommsEvents),
      logger: new Logger('dapr-breakdown'),
    });
  const everyHeader = transport();
  const etagOnly = transport(['etag']);
  const breaker = new CircuitBreaker('state:profile');
  const rawAgent = new http.Agent({ keepAlive: true });
  const adapter = createNodeHttpAdapter(url, keepAlive());
  const config = {
    url: path,
    method: 'get',
    timeout: 5_000,
    headers: AxiosHeaders.from({ Accept: 'application/json' }),
  } as InternalAxiosRequestConfig;
  await compare(
    [
      [
        'raw node:http GET',
        () =>
          new Promise((resolve, reject) => {
            http
              .get({ host: '127.0.0.1', port: daprd.httpPort, path, agent: rawAgent }, (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
              })
              .on('error', reject);
          }),
      ],
      ['node:http adapter alone', async () => JSON.parse((await adapter(config)).data as string)],
      [
        '+ call runner, axios, axios-retry (every header)',
        () => everyHeader.runner.run({ method: 'GET', url: path }, { route: '/r', repeatable: true, breaker }),
      ],
      [
        '+ call runner, axios, axios-retry (ETag only)',
        () => etagOnly.runner.run({ method: 'GET', url: path }, { route: '/r', repeatable: true, breaker }),
      ],
      ['DaprClientHelper.getState', () => kugel.getState('statestore', 'profile-get')],
      ['@dapr/dapr DaprClient state.get', () => official.state.get('statestore', 'profile-get')],
      ['DaprClientHelper.saveState (for comparison)', () => kugel.saveState('statestore', 'profile-save', value)],
      [
        '@dapr/dapr DaprClient state.save (for comparison)',
        () => official.state.save('statestore', [{ key: 'profile-save', value }]),
      ],
    ],
    rounds,
    roundMs,
  );
  everyHeader.destroy();
  etagOnly.destroy();
  rawAgent.destroy();
  await close();
}

/** A test daprd (in-memory components), the module and the official client on it, one value saved. */
async function daprSetup() {
  const { Daprd } = await import('../test/dapr/daprd');
  const daprd = await Daprd.start({ appId: 'kugel-profile' });
  const app = await bootKugel({ dapr: { httpEndpoint: daprd.httpEndpoint } });
  const kugel = app.get(DaprClientHelper);
  const official = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: String(daprd.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: { level: LogLevel.Error },
  });
  await official.start();
  const value = { cartId: 'c-0001', status: 'open', total: 1280, lines: [{ sku: '4901234567894', qty: 2 }] };
  if (!(await kugel.saveState('statestore', 'profile-get', value))) throw new Error('seed failed');
  const close = async () => {
    await official.stop();
    await app.close();
    await daprd.dispose();
  };
  return { daprd, app, kugel, official, value, close };
}

/** One Dapr state-read contender alone, for a CPU profile. */
async function daprGetAlone(which: 'dapr-get-kugel' | 'dapr-get-official', ms: number): Promise<void> {
  const { kugel, official, close } = await daprSetup();
  const op =
    which === 'dapr-get-kugel'
      ? () => kugel.getState('statestore', 'profile-get')
      : () => official.state.get('statestore', 'profile-get');
  await closedLoop(op, 32, 1000);
  const r = await closedLoop(op, 32, ms);
  console.log(`${which}: ${Math.round(r.opsPerSec)} calls/s, ${r.errors} errors`);
  await close();
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'breakdown';
  const ms = Number(process.argv[3] ?? 4000);
  if (which === 'dapr-breakdown') return daprBreakdown();
  if (which === 'dapr-get-kugel' || which === 'dapr-get-official') return daprGetAlone(which, ms);
  if (which === 'breaker-open') {
    const port = await closedPort();
    const app = await bootKugel({
      services: { dead: { baseUrl: `http://127.0.0.1:${port}`, breaker: {}, retries: 0 } },
    });
    const client = app.get(HttpClientHelper).getServiceClient('dead');
    await Promise.all([0, 1, 2].map(() => client.get('/').catch(() => undefined)));
    if (client.breaker?.state !== CircuitState.Open) throw new Error('breaker not open');
    const r = await closedLoop(
      () =>
        client.get('/').then(
          () => undefined,
          () => undefined,
        ),
      1,
      ms,
    );
    console.log(
      `${which}: ${Math.round(r.opsPerSec)} calls/s, p50 ${r.p50Us.toFixed(1)} µs, p99 ${r.p99Us.toFixed(1)} µs`,
    );
    await app.close();
    return;
  }
  const peer = await Peer.start();
  const app = await bootKugel({ services: { peer: peer.url } });
  const kugel = app.get(HttpClientHelper).getServiceClient('peer');
  if (which === 'breakdown') {
    await breakdown(peer, kugel, app.get(KugelCommsEvents));
  } else {
    const agent = new http.Agent({ keepAlive: true });
    const ax = axios.create();
    const ops: Record<string, () => Promise<unknown>> = {
      'kugel-get': () => kugel.get('/item'),
      'axios-get': () => ax.get(`${peer.url}/item`),
      'raw-get': () =>
        new Promise((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: peer.port, path: '/item', agent }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
            })
            .on('error', reject);
        }),
    };
    const op = ops[which];
    if (!op) throw new Error(`unknown case ${which}`);
    await closedLoop(op, 32, 1000);
    const r = await closedLoop(op, 32, ms);
    console.log(
      `${which}: ${Math.round(r.opsPerSec)} req/s, p50 ${Math.round(r.p50Us)} µs, p99 ${Math.round(r.p99Us)} µs, ${r.errors} errors`,
    );
    agent.destroy();
  }
  await app.close();
  await peer.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
