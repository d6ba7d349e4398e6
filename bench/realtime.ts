// Real-time channel: messages per second over one WebSocket connection through
// RealtimeClient against a bare `ws` client on the same peer, and how long a reconnect takes after
// the peer restarts.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeClient, RealtimeConnection } from '../lib';
import { REALTIME_DEFAULTS } from '../lib/options/defaults';
import { restartablePort } from '../test/support/ws-server';
import { bootKugel } from './http';
import { median, TS_NODE } from './support';

export interface ThroughputContender {
  name: string;
  /** Messages per second, median of rounds. */
  msgsPerSec: number;
  /** Client process CPU per message, µs (median of rounds). */
  cpuUsPerMsg: number;
  rounds: number[];
  errors: number;
}

export interface ReconnectResult {
  initialDelayMs: number;
  restarts: number;
  /** Delay the client chose for its first attempt after each drop (ms). */
  scheduledMs: number[];
  /** Drop → open again (ms). */
  dropToOpenMs: number[];
  /** Attempts each reconnect took (1 = within the first backoff step). */
  attempts: number[];
  /** connect() → open of a fresh connection (ms): the handshake itself, as a baseline. */
  freshConnectMs: number[];
}

export interface RealtimeBenchResult {
  messages: number;
  messageBytes: number;
  contenders: ThroughputContender[];
  reconnect: ReconnectResult;
}

const MESSAGE = JSON.stringify({ type: 'stock_alert', item_code: '4901234567894', pad: 'x'.repeat(40), seq: 0 });

function startPeer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(path.join(__dirname, 'ws-peer.ts'), [], {
    execArgv: TS_NODE,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench/ws-peer.ts exited with ${code}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (!m.ready) return;
      child.removeAllListeners('exit');
      resolve({
        url: `http://127.0.0.1:${m.port}`,
        stop: () =>
          new Promise<void>((r) => {
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** Waits for the peer's "done <n>" after "end"; resolves to n. */
function doneOf(onText: (listener: (text: string) => void) => () => void): Promise<number> {
  return new Promise((resolve) => {
    const off = onText((text) => {
      if (!text.startsWith('done ')) return;
      off();
      resolve(Number(text.slice(5)));
    });
  });
}

/** One round through a bare `ws` client: `n` messages in batches of `batch` per turn of the event loop. */
async function bareRound(ws: WebSocket, n: number, batch: number): Promise<number> {
  const done = doneOf((l) => {
    const h = (d: Buffer) => l(d.toString());
    ws.on('message', h);
    return () => ws.off('message', h);
  });
  for (let i = 0; i < n; i += batch) {
    for (let j = i; j < Math.min(n, i + batch); j += 1) ws.send(MESSAGE);
    await new Promise((r) => setImmediate(r));
  }
  ws.send('end');
  return done;
}

/**
 * Reference, not a target: bare `ws` with the write coalescing RealtimeClient does (the TCP socket
 * corked for the frames of one turn of the event loop), to show what that alone is worth.
 */
async function bareCorkedRound(
  ws: WebSocket,
  tcp: import('node:net').Socket,
  n: number,
  batch: number,
): Promise<number> {
  const done = doneOf((l) => {
    const h = (d: Buffer) => l(d.toString());
    ws.on('message', h);
    return () => ws.off('message', h);
  });
  for (let i = 0; i < n; i += batch) {
    tcp.cork();
    for (let j = i; j < Math.min(n, i + batch); j += 1) ws.send(MESSAGE);
    tcp.uncork();
    await new Promise((r) => setImmediate(r));
  }
  ws.send('end');
  return done;
}

/**
 * One round through RealtimeClient: the same batches, each `send()` awaited (in bulk) so that no
 * more than the send buffer is ever held; "end" goes once every message was confirmed.
 */
async function kugelRound(conn: RealtimeConnection, n: number, batch: number, window: number): Promise<number> {
  const done = doneOf((l) => conn.onMessage.on((m) => l(String(m.data))));
  const inFlight: Array<Promise<void>> = [];
  let errors = 0;
  const count = (p: Promise<void>) => p.catch(() => void (errors += 1));
  for (let i = 0; i < n; i += batch) {
    while (inFlight.length > 0 && inFlight.length * batch + batch > window) await inFlight.shift();
    const sends: Array<Promise<void>> = [];
    for (let j = i; j < Math.min(n, i + batch); j += 1) sends.push(conn.send(MESSAGE));
    inFlight.push(count(Promise.all(sends).then(() => undefined)));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(inFlight);
  await conn.send('end');
  const got = await done;
  return errors > 0 ? -errors : got;
}

export async function benchRealtime(o: { rounds: number; messages: number }): Promise<RealtimeBenchResult> {
  const peer = await startPeer();
  const batch = 100;
  const app = await bootKugel({ services: { peer: peer.url } });
  const client = app.get(RealtimeClient);
  const kugel = client.connect('peer', '/');
  const kugelLarge = client.connect('peer', '/', { sendBufferSize: 10_000 });
  const bare = new WebSocket(peer.url.replace('http:', 'ws:'), { perMessageDeflate: false });
  const corked = new WebSocket(peer.url.replace('http:', 'ws:'), { perMessageDeflate: false });
  let corkedTcp: import('node:net').Socket | undefined;
  corked.once('upgrade', (res) => (corkedTcp = res.socket));
  await Promise.all([
    kugel.waitForOpen(),
    kugelLarge.waitForOpen(),
    new Promise((resolve, reject) => bare.once('open', resolve).once('error', reject)),
    new Promise((resolve, reject) => corked.once('open', resolve).once('error', reject)),
  ]);

  const contenders: Array<{ name: string; run: () => Promise<number> }> = [
    { name: 'bare ws (no confirmation, no buffer bound)', run: () => bareRound(bare, o.messages, batch) },
    {
      name: `kugel RealtimeClient (sendBufferSize ${REALTIME_DEFAULTS.sendBufferSize}, the default)`,
      run: () => kugelRound(kugel, o.messages, batch, REALTIME_DEFAULTS.sendBufferSize),
    },
    {
      name: 'kugel RealtimeClient (sendBufferSize 10,000)',
      run: () => kugelRound(kugelLarge, o.messages, batch, 10_000),
    },
    {
      name: '(ref) bare ws, socket corked per turn',
      run: () => bareCorkedRound(corked, corkedTcp!, o.messages, batch),
    },
  ];
  const rates = contenders.map(() => [] as number[]);
  const cpu = contenders.map(() => [] as number[]);
  const errors = contenders.map(() => 0);
  for (const c of contenders) await c.run(); // warm-up
  for (let r = 0; r < o.rounds; r += 1) {
    for (let i = 0; i < contenders.length; i += 1) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const got = await contenders[i].run();
      const seconds = (performance.now() - t0) / 1000;
      const used = process.cpuUsage(cpu0);
      if (got !== o.messages) errors[i] += 1;
      rates[i].push(o.messages / seconds);
      cpu[i].push((used.user + used.system) / o.messages);
    }
  }
  await Promise.all([kugel.close(), kugelLarge.close()]);
  bare.close();
  corked.close();
  await app.close();
  await peer.stop();

  return {
    messages: o.messages,
    messageBytes: Buffer.byteLength(MESSAGE),
    contenders: contenders.map((c, i) => ({
      name: c.name,
      msgsPerSec: median(rates[i]),
      cpuUsPerMsg: median(cpu[i]),
      rounds: rates[i],
      errors: errors[i],
    })),
    reconnect: await benchReconnect(o.rounds),
  };
}

/**
 * The peer (a `ws` server in this process, so that its restart time is known to the millisecond)
 * is stopped — every socket destroyed, no close frame — and listens again on its port at once.
 * The client runs with the default backoff; `resetAfterMs` is 300 ms so that each restart, spaced
 * 500 ms apart, starts from the first step.
 */
async function benchReconnect(restarts: number): Promise<ReconnectResult> {
  const port = await restartablePort();
  let wss = await listen(port);
  const app = await bootKugel({ services: { peer: `http://127.0.0.1:${port}` } });
  const client = app.get(RealtimeClient);
  const result: ReconnectResult = {
    initialDelayMs: REALTIME_DEFAULTS.reconnect.initialDelayMs,
    restarts,
    scheduledMs: [],
    dropToOpenMs: [],
    attempts: [],
    freshConnectMs: [],
  };
  for (let i = 0; i < restarts; i += 1) {
    const t0 = performance.now();
    const fresh = client.connect('peer', '/fresh');
    await fresh.waitForOpen();
    result.freshConnectMs.push(performance.now() - t0);
    await fresh.close();
  }
  const conn = client.connect('peer', '/', { reconnect: { resetAfterMs: 300 } });
  await conn.waitForOpen();
  for (let i = 0; i < restarts; i += 1) {
    await new Promise((r) => setTimeout(r, 500));
    const scheduled = new Promise<number>((resolve) => {
      const off = conn.onReconnect.on((e) => {
        off();
        resolve(e.delayMs);
      });
    });
    const opened = new Promise<{ attempts: number }>((resolve) => {
      const off = conn.onOpen.on((e) => {
        off();
        resolve(e);
      });
    });
    const dropped = performance.now();
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    wss = await listen(port);
    const e = await opened;
    result.dropToOpenMs.push(performance.now() - dropped);
    result.scheduledMs.push(await scheduled);
    result.attempts.push(e.attempts);
  }
  await conn.close();
  await app.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return result;
}

function listen(port: number): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
    wss.once('listening', () => resolve(wss));
    wss.once('error', reject);
  });
}
