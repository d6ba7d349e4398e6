import { TestingModule } from '@nestjs/testing';
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRealtimeError, KugelCommsEvents, RealtimeClient, RealtimeConnection } from '../../lib';
import { teeToScan } from '../support/log-scan';
import { bootKugelComms } from '../support/module-fixture';
import { exited } from '../support/processes';
import { restartablePort } from '../support/ws-server';
import { quietLogs, restoreLogs, Scenario, settleWithin } from './support/scenario';

const SINK = path.join(__dirname, 'fixtures', 'ws-sink.ts');

/** The sink peer (fixtures/ws-sink.ts) in a process of its own, so that it can really be killed. */
async function startSink(port: number, file: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(SINK, [String(port), file], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ws-sink did not start: ${stderr.join('')}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`ws-sink exited with ${code}: ${stderr.join('')}`)));
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (!m.ready || !m.port) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ child, port: m.port });
    });
  });
}

/** What the sinks recorded: "<connection> <id>" lines. */
function received(file: string): Array<{ connection: string; id: number }> {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [connection, id] = line.split(' ');
      return { connection, id: Number(id) };
    });
}

/**
 * The delivery contract under real faults: a sender keeps sending while its peer process is
 * SIGKILLed (and started again on the same port), or frozen with SIGSTOP. The peer appends every
 * message it reads to a file before it can confirm it. Every `send()` must end either resolved —
 * and then the message is in the file — or rejected with a `RealtimeError`: lost = resolved but
 * never read, or never settled. Messages re-sent after a reconnect may arrive twice (at-least-once).
 */
describe('faults: a WebSocket peer dies under load', () => {
  const DEADLINE = 45_000;
  let dir: string;
  let app: TestingModule;
  let scenario: Scenario | undefined;
  const sinks: ChildProcess[] = [];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-ws-faults-'));
  });
  afterEach(async () => {
    scenario?.dispose();
    await app?.close();
    for (const s of sinks.splice(0)) {
      if (s.signalCode === 'SIGSTOP') s.kill('SIGCONT');
      s.kill('SIGKILL');
      await exited(s);
    }
    restoreLogs();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(
    name: string,
    file: string,
    port: number,
    total: number,
    faults: Map<number, (conn: RealtimeConnection) => Promise<void>>,
    minReconnects = faults.size,
  ): Promise<void> {
    const events = app.get(KugelCommsEvents).realtime;
    let reconnects = 0;
    const offs = [events.opened.on((e) => (reconnects += e.reconnected ? 1 : 0))];
    const conn = app.get(RealtimeClient).connect('sink', '/');
    await conn.waitForOpen();
    scenario = new Scenario(name);
    const s = scenario;
    const resolved = new Set<number>();
    const failed = new Map<number, boolean>(); // id → written
    const pending: Array<Promise<void>> = [];
    const faultRuns: Array<Promise<void>> = [];
    const pad = 'p'.repeat(100);
    for (let id = 0; id < total; id += 1) {
      const fault = faults.get(id);
      if (fault) faultRuns.push(fault(conn));
      s.attempted += 1;
      pending.push(
        settleWithin(() => conn.send({ id, pad }), DEADLINE).then((o) => {
          if (o.kind === 'value') {
            s.succeeded += 1;
            resolved.add(id);
          } else if (o.kind === 'error' && isRealtimeError(o.error)) {
            s.failedReported += 1;
            failed.set(id, o.error.written === true);
            s.codes.set(o.error.code, (s.codes.get(o.error.code) ?? 0) + 1);
            teeToScan(`[error] ${name}: ${o.error.message}`);
          } else {
            s.markLost(
              o.kind === 'timeout' ? `id ${id}: no outcome within ${DEADLINE} ms` : `id ${id}: ${String(o.error)}`,
            );
          }
        }),
      );
      // About 1,000 messages a second (10 every 10 ms), so that sending spans the faults.
      if (id % 10 === 9) await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(faultRuns);
    await Promise.all(pending);
    await conn.close();
    offs.forEach((off) => off());

    const rows = received(file);
    const counts = new Map<number, number>();
    for (const r of rows) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    for (const id of resolved) if (!counts.has(id)) s.markLost(`id ${id} resolved but the peer never read it`);
    const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
    const failedButArrived = [...failed.keys()].filter((id) => counts.has(id)).length;
    const failedWritten = [...failed.values()].filter(Boolean).length;
    // Order on each connection: ids strictly increasing (a re-sent run starts a new connection).
    const byConnection = new Map<string, number[]>();
    for (const r of rows) byConnection.set(r.connection, [...(byConnection.get(r.connection) ?? []), r.id]);
    const outOfOrder = [...byConnection.values()].filter((ids) => ids.some((id, i) => i > 0 && id <= ids[i - 1]));

    const row = await s.finish(
      `sent ${total}; delivered ${counts.size} distinct (${duplicates} duplicates: re-sent after a reconnect); ` +
        `reported failed ${failed.size} (${failedWritten} of them had been written, ${failedButArrived} arrived anyway); ` +
        `${reconnects} reconnects over ${byConnection.size} peer connections, order kept on ${byConnection.size - outOfOrder.length}`,
    );
    expect(row.lost).toBe(0);
    expect(row.unhandledRejections).toBe(0);
    expect(row.succeeded + row.failedReported).toBe(total);
    expect(outOfOrder).toEqual([]);
    expect(reconnects).toBeGreaterThanOrEqual(minReconnects);
    // Whatever the peer read was either confirmed or reported.
    expect(row.succeeded).toBeGreaterThan(0);
  }

  it('SIGKILLed twice and started again on the same port: every send is delivered or reported, none lost', async () => {
    const file = path.join(dir, 'kill.log');
    // Not port 0: see restartablePort() (a reconnecting client could take an ephemeral port itself).
    const first = await startSink(await restartablePort(), file);
    sinks.push(first.child);
    const port = first.port;
    quietLogs();
    app = await bootKugelComms({
      services: { sink: `http://127.0.0.1:${port}` },
      realtime: {
        sendBufferSize: 500,
        sendTimeoutMs: 20_000,
        heartbeatIntervalMs: 1_000,
        heartbeatTimeoutMs: 3_000,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        breaker: { failureThreshold: 5, resetTimeoutMs: 1_000 },
      },
    });
    quietLogs();
    let current = first.child;
    let previous: Promise<void> = Promise.resolve();
    // One after the other: the second kill waits until the first restart is up.
    const killAndRestart = () =>
      (previous = previous.then(async () => {
        current.kill('SIGKILL');
        await exited(current);
        const next = await startSink(port, file);
        sinks.push(next.child);
        current = next.child;
      }));
    await run(
      'WebSocket peer SIGKILLed twice, restarted on its port (8,000 sends at ~1,000/s, buffer 500)',
      file,
      port,
      8_000,
      new Map([
        [1_500, killAndRestart],
        [5_000, killAndRestart],
      ]),
    );
  });

  it('frozen with SIGSTOP for 3 s (sockets open, nothing answered), then SIGCONT: nothing lost', async () => {
    const file = path.join(dir, 'stop.log');
    const sink = await startSink(await restartablePort(), file);
    sinks.push(sink.child);
    quietLogs();
    app = await bootKugelComms({
      services: { sink: `http://127.0.0.1:${sink.port}` },
      realtime: {
        sendBufferSize: 1_000,
        sendTimeoutMs: 20_000,
        heartbeatIntervalMs: 500,
        heartbeatTimeoutMs: 1_000,
        handshakeTimeoutMs: 1_000,
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
        breaker: { failureThreshold: 3, resetTimeoutMs: 1_000 },
      },
    });
    quietLogs();
    const freeze = async () => {
      sink.child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 3_000));
      sink.child.kill('SIGCONT');
    };
    await run(
      'WebSocket peer frozen by SIGSTOP for 3 s (6,000 sends at ~1,000/s, buffer 1,000)',
      file,
      sink.port,
      6_000,
      new Map([[1_500, freeze]]),
    );
  });
});
