// 100k GETs through HttpClientHelper: heap growth (after full GCs) and the most sockets open at
// once at the peer. `runMemory()` forks this file as `node --expose-gc -r
// ts-node/register/transpile-only bench/memory.ts`, so that it runs in a process of its own with a
// peer of its own; it reports over IPC (or prints JSON when run by hand).
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { HttpClientHelper } from '../lib';
import { DEFAULTS } from '../lib/options/defaults';
import { bootKugel } from './http';
import { Peer, TS_NODE } from './support';

export interface MemoryResult {
  requests: number;
  concurrency: number;
  maxSockets: number;
  seconds: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  heapGrowthMB: number;
  rssGrowthMB: number;
  /** Most connections open at once at the peer during the run. */
  maxOpenAtPeer: number;
  connectionsAtPeer: number;
  errors: number;
  gcExposed: boolean;
}

const MB = 1024 * 1024;

async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 4; i += 1) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const requests = Number(process.env.BENCH_MEMORY_REQUESTS ?? 100_000);
  const maxSockets = DEFAULTS.http.maxSockets; // the default (64)
  const concurrency = maxSockets * 2; // more callers than sockets, so the bound is exercised
  const peer = await Peer.start();
  const app = await bootKugel({ services: { peer: peer.url } });
  const client = app.get(HttpClientHelper).getServiceClient('peer');
  let errors = 0;

  const drive = async (total: number) => {
    let next = 0;
    const worker = async () => {
      while (next < total) {
        next += 1;
        await client.get('/item').catch(() => void (errors += 1));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };

  await drive(5_000); // warm-up: JIT, pool at full size
  await peer.reset();
  const heapBefore = await settledHeap();
  const rssBefore = process.memoryUsage().rss;
  const t0 = Date.now();
  await drive(requests);
  const seconds = (Date.now() - t0) / 1000;
  const heapAfter = await settledHeap();
  const rssAfter = process.memoryUsage().rss;
  const stats = await peer.stats();

  const result: MemoryResult = {
    requests,
    concurrency,
    maxSockets,
    seconds,
    heapBeforeMB: heapBefore / MB,
    heapAfterMB: heapAfter / MB,
    heapGrowthMB: (heapAfter - heapBefore) / MB,
    rssGrowthMB: (rssAfter - rssBefore) / MB,
    maxOpenAtPeer: stats.maxOpen,
    connectionsAtPeer: stats.connections,
    errors,
    gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
  await app.close();
  await peer.stop();
  if (process.send) process.send(result, () => process.exit(0));
  else console.log(JSON.stringify(result, null, 2));
}

/** This file in a child process with `--expose-gc`; resolves to what it reports. */
export function runMemory(requests: number): Promise<MemoryResult> {
  const child = fork(__filename, [], {
    execArgv: ['--expose-gc', ...TS_NODE],
    env: { ...process.env, BENCH_MEMORY_REQUESTS: String(requests) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as MemoryResult));
    child.once('exit', (code) => (code !== 0 ? reject(new Error(`bench/memory.ts exited with ${code}`)) : undefined));
  });
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
