// REST GET throughput and latency: HttpClientHelper against raw node:http, undici and axios.
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import axios, { AxiosHeaders, InternalAxiosRequestConfig } from 'axios';
import * as http from 'node:http';
import { Pool } from 'undici';
import { HttpClientHelper, KugelCommsModule } from '../lib';
import { createNodeHttpAdapter } from '../lib/transport/node-http.adapter';
import { ContenderSummary, interleaved, Peer } from './support';
import { kugelOnUndici } from './undici-adapter';

export interface HttpBenchResult {
  concurrency: number;
  rounds: number;
  roundMs: number;
  contenders: ContenderSummary[];
  /** What Node 20's global agent (used by a default axios instance) does. */
  globalAgent: { keepAlive: boolean; maxSockets: number };
}

/** GET and parse the JSON body with a keep-alive node:http agent: the ceiling. */
function rawGet(agent: http.Agent, port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        agent,
        headers: { accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Boots the module the way an app does (no Nest log output: it is not what is measured), with the
 * start-up wait for the sidecar off unless `options.dapr` turns it on: left on, every module booted
 * here would poll `/v1.0/healthz/outbound` (on 127.0.0.1:3500, the default endpoint, for the REST
 * benchmarks) for up to 10 s while the rounds run. The Dapr benchmark waits for its sidecar itself,
 * before the first round.
 */
export async function bootKugel(
  options: Parameters<typeof KugelCommsModule.forRoot>[0],
): Promise<INestApplicationContext> {
  options = { ...options, dapr: { waitForSidecarMs: 0, ...options.dapr } };
  return NestFactory.createApplicationContext(KugelCommsModule.forRoot(options), {
    logger: false,
    abortOnError: false,
  });
}

export async function benchHttp(
  peer: Peer,
  o: { concurrency: number; rounds: number; roundMs: number; warmupMs: number },
): Promise<HttpBenchResult> {
  const app = await bootKugel({ services: { peer: peer.url } });
  const kugel = app.get(HttpClientHelper).getServiceClient('peer');

  const rawAgent = new http.Agent({ keepAlive: true });
  const pool = new Pool(peer.url, { connections: o.concurrency });
  // What `HttpModule.register({})` of @nestjs/axios builds: `axios.create(config)`.
  const defaultAxios = axios.create();

  // For reference only: kugel's own node:http adapter called directly, without axios core,
  // interceptors or axios-retry (what a transport without axios could reach).
  const adapterAgent = new http.Agent({
    keepAlive: true,
    maxSockets: 64,
    scheduling: 'lifo',
    timeout: 4_000,
  });
  const adapter = createNodeHttpAdapter(peer.url, adapterAgent);
  const adapterConfig = {
    url: '/item',
    method: 'get',
    timeout: 30_000,
    headers: AxiosHeaders.from({ Accept: 'application/json' }),
  } as InternalAxiosRequestConfig;

  // The same kugel pipeline (call runner, axios, axios-retry) on an adapter over undici instead of
  // node:http, and that adapter alone: see docs/benchmarks.md, "undici adapter".
  const onUndici = kugelOnUndici(peer.url);

  const contenders = [
    { name: 'raw node:http (keep-alive agent)', op: () => rawGet(rawAgent, peer.port, '/item') },
    {
      name: 'undici Pool',
      op: async () => {
        const res = await pool.request({
          path: '/item',
          method: 'GET',
          headers: { accept: 'application/json' },
        });
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        return res.body.json();
      },
    },
    { name: 'kugel HttpClientHelper', op: () => kugel.get('/item') },
    {
      name: '(ref) kugel adapter without axios',
      op: async () => {
        const res = await adapter(adapterConfig);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        return JSON.parse(res.data as string);
      },
    },
    { name: '(ref) kugel on an undici adapter', op: () => onUndici.client.get('/item') },
    {
      name: '(ref) undici adapter without axios',
      op: async () => {
        const res = await onUndici.adapter(adapterConfig);
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        return JSON.parse(res.data as string);
      },
    },
    {
      name: 'axios default instance',
      op: async () => (await defaultAxios.get(`${peer.url}/item`)).data,
    },
    {
      // The original's pattern: a new client (and a new connection pool) for every call.
      name: 'axios client per call',
      op: async () => {
        const agent = new http.Agent();
        try {
          return (await axios.create({ baseURL: peer.url, httpAgent: agent }).get('/item')).data;
        } finally {
          agent.destroy();
        }
      },
    },
  ];

  const results = await interleaved(contenders, { ...o, peer, label: 'REST GET' });
  await app.close();
  rawAgent.destroy();
  adapterAgent.destroy();
  await pool.close();
  await onUndici.close();
  return {
    concurrency: o.concurrency,
    rounds: o.rounds,
    roundMs: o.roundMs,
    contenders: results,
    globalAgent: {
      keepAlive: (http.globalAgent as unknown as { keepAlive: boolean }).keepAlive,
      maxSockets: http.globalAgent.maxSockets,
    },
  };
}
