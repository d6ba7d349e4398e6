import { TestingModule } from '@nestjs/testing';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { HttpClientError, HttpClientHelper, KugelCommsEvents, RequestCompletedEvent } from '../../lib';
import { teeToScan } from '../support/log-scan';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer, TestServer } from '../support/test-server';
import { quietLogs, restoreLogs, Scenario } from './support/scenario';

/**
 * A misbehaving REST peer (a real node:http server on 127.0.0.1): 503 bursts, connections reset
 * mid-response, stalls, slow bodies, malformed JSON, oversized bodies. Every call must end in a
 * value or a reported `HttpClientError`; none may hang or leak an unhandled rejection.
 */
describe('faults: a misbehaving peer', () => {
  const MAX_CONTENT = 4096;
  const DEADLINE = 15_000;
  let server: TestServer;
  let app: TestingModule;
  let completed: RequestCompletedEvent[] = [];
  let scenario: Scenario | undefined;
  let burstCounter = 0;
  const resetSeen = new Set<string>();
  const trickles = new Set<NodeJS.Timeout>();

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      const url = req.url ?? '';
      const [, kind, a, b] = url.split('?')[0].split('/');
      switch (kind) {
        case 'burst': {
          // Answers come in runs of 25: 25 × 503, 25 × 200, ...
          const n = burstCounter++;
          if (Math.floor(n / 25) % 2 === 0) return json(res, 503, { message: 'overloaded' });
          return json(res, 200, { id: a });
        }
        case 'reset': {
          // The first request of each id gets the headers and part of the body, then a reset.
          if (!resetSeen.has(a)) {
            resetSeen.add(a);
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 1000 });
            res.write(`{"id":"${a}","pad":"${'x'.repeat(50)}`, () => res.socket?.destroy());
            return;
          }
          return json(res, 200, { id: a, second: true });
        }
        case 'stall':
          return; // never answers
        case 'trickle':
          return trickle(res, Number(a), Number(b));
        case 'malformed':
          res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
          return void res.end('{"items": [1, 2,');
        case 'big': {
          const text = JSON.stringify({ blob: 'y'.repeat(MAX_CONTENT * 4) });
          // `chunked` answers carry no length up front; the limit must hold for them too.
          if (a === 'chunked') {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.write(text.slice(0, 1000));
            return void res.end(text.slice(1000));
          }
          return json(res, 200, JSON.parse(text));
        }
        case 'small':
          return json(res, 200, { ok: true });
        default:
          return json(res, 404, { message: 'no route' });
      }
    });
    const logger = quietLogs();
    app = await bootKugelComms({
      // One service per scenario: each has its own retry budget, so one scenario's retries do not
      // spend the next one's.
      services: {
        burst: server.url,
        reset: server.url,
        stall: server.url,
        // One attempt only, so the timeout figures are per call.
        slow: { baseUrl: server.url, retries: 0 },
        malformed: server.url,
        big: server.url,
      },
      http: { backoff: { initialDelayMs: 5, maxDelayMs: 20 }, maxContentLength: MAX_CONTENT },
      dapr: { waitForSidecarMs: 0 },
    });
    quietLogs();
    void logger;
    app.get(KugelCommsEvents).requestCompleted.on((e) => completed.push(e));
  });

  afterEach(() => {
    scenario?.dispose();
    scenario = undefined;
    completed = [];
  });

  afterAll(async () => {
    for (const t of trickles) clearInterval(t);
    await app?.close();
    await server?.close();
    restoreLogs();
  });

  const client = (name: string) => app.get(HttpClientHelper).getServiceClient(name);
  const slow = () => client('slow');
  const requestsTo = (kind: string) => server.requests.filter((r) => r.url.startsWith(`/${kind}/`)).length;

  /** Writes `bytes` bytes of a JSON body, one every `everyMs`, then ends. */
  function trickle(res: http.ServerResponse, everyMs: number, bytes: number): void {
    const body = JSON.stringify({ s: 'z'.repeat(Math.max(0, bytes - 8)) });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    let i = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return void stop();
      res.write(body[i]);
      i += 1;
      if (i >= body.length) {
        stop();
        res.end();
      }
    }, everyMs);
    trickles.add(timer);
    const stop = () => {
      clearInterval(timer);
      trickles.delete(timer);
    };
    res.on('close', stop);
  }

  it('503 in bursts: retried GETs mostly recover; the rest are reported with the status and the attempts', async () => {
    scenario = new Scenario('peer answers 503 in bursts (200 GETs, retries 3)');
    const before = requestsTo('burst');
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => scenario!.http(() => client('burst').get(`/burst/${i}`), DEADLINE)),
    );
    const failures = outcomes.filter((o) => !o.ok).map((o) => (o as { error: HttpClientError }).error);
    for (const e of failures) {
      expect(e.statusCode).toBe(503);
      expect(e.attempts).toBeGreaterThanOrEqual(1);
      expect(e.attempts).toBeLessThanOrEqual(4);
    }
    // Every attempt the server saw is counted in exactly one call's `attempts`.
    const attempts = completed.filter((e) => e.route.startsWith('/burst/')).reduce((n, e) => n + e.attempts, 0);
    expect(completed.filter((e) => e.route.startsWith('/burst/'))).toHaveLength(200);
    expect(requestsTo('burst') - before).toBe(attempts);
    const row = await scenario.finish(`${attempts} attempts for 200 calls (retry budget: 20 % + 10/s floor)`);
    expect(row).toMatchObject({ attempted: 200, lost: 0, unhandledRejections: 0 });
    expect(row.succeeded + row.failedReported).toBe(200);
    expect(row.succeeded).toBeGreaterThan(0);
  });

  it('a reset mid-response: GETs are retried and succeed; POSTs (not idempotent) are reported, never re-sent', async () => {
    scenario = new Scenario('connection reset after headers + part of the body (100 GET, 50 POST)');
    const gets = Array.from({ length: 100 }, (_, i) =>
      scenario!.http(() => client('reset').get<{ second: boolean }>(`/reset/g${i}`), DEADLINE),
    );
    const posts = Array.from({ length: 50 }, (_, i) =>
      scenario!.http(() => client('reset').post(`/reset/p${i}`, { i }), DEADLINE),
    );
    const [g, p] = await Promise.all([Promise.all(gets), Promise.all(posts)]);
    expect(g.every((o) => o.ok && (o.value as { second: boolean }).second === true)).toBe(true);
    for (const o of p) {
      expect(o.ok).toBe(false);
      const e = (o as { error: HttpClientError }).error;
      expect(e.attempts).toBe(1);
      expect(e.code).toMatch(/ECONNRESET|ERR_BAD_RESPONSE|EPIPE/);
    }
    expect(server.requests.filter((r) => r.url.startsWith('/reset/p'))).toHaveLength(50);
    const row = await scenario.finish(
      'each GET took 2 attempts; each POST 1 (the peer may have acted on it: reported, not repeated)',
    );
    expect(row).toMatchObject({ attempted: 150, succeeded: 100, failedReported: 50, lost: 0, unhandledRejections: 0 });
  });

  it('a stall past the timeout: every attempt times out (ECONNABORTED) and the call is reported', async () => {
    scenario = new Scenario('peer stalls past timeoutMs (40 GETs, timeout 150 ms, retries 1)');
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        scenario!.http(() => client('stall').get(`/stall/${i}`, { timeoutMs: 150, retries: 1 }), DEADLINE),
      ),
    );
    for (const o of outcomes) {
      const e = (o as { error: HttpClientError }).error;
      expect(e.code).toBe('ECONNABORTED');
      expect(e.attempts).toBe(2);
    }
    const row = await scenario.finish('2 attempts per call');
    expect(row).toMatchObject({ attempted: 40, succeeded: 0, failedReported: 40, lost: 0, unhandledRejections: 0 });
  });

  it('a slow body: within timeoutMs it is read whole; past it the attempt is cut (timeoutMs bounds the whole attempt)', async () => {
    scenario = new Scenario('peer trickles the body (10 within timeout, 10 past it; 1 byte / 40 ms)');
    // Within: 12 bytes × 40 ms ≈ 0.5 s, timeout 3 s. Past: 60 bytes × 40 ms ≈ 2.4 s, timeout 600 ms;
    // every byte arrives well within the timeout of the one before, so only a deadline on the
    // whole attempt (not an idle timer) can end it.
    const within = Array.from({ length: 10 }, () =>
      scenario!.http(() => slow().get<{ s: string }>('/trickle/40/12', { timeoutMs: 3_000 }), DEADLINE),
    );
    const past = Array.from({ length: 10 }, () =>
      scenario!.http(() => slow().get('/trickle/40/60', { timeoutMs: 600 }), DEADLINE),
    );
    const [w, p] = await Promise.all([Promise.all(within), Promise.all(past)]);
    for (const o of w) expect(o.ok && (o.value as { s: string }).s).toBe('z'.repeat(4));
    for (const o of p) {
      expect(o.ok).toBe(false);
      expect((o as { error: HttpClientError }).error.code).toBe('ECONNABORTED');
    }
    const row = await scenario.finish(
      'decision: timeoutMs is a deadline for the whole attempt (connect to last byte), not an idle timer',
    );
    expect(row).toMatchObject({ attempted: 20, succeeded: 10, failedReported: 10, lost: 0, unhandledRejections: 0 });
  });

  it('malformed JSON under a JSON content type is a reported HttpClientError, once per call, not a crash', async () => {
    scenario = new Scenario('peer sends malformed JSON with a JSON content type (30 GETs)');
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () => scenario!.http(() => client('malformed').get('/malformed/x'), DEADLINE)),
    );
    for (const o of outcomes) {
      const e = (o as { error: HttpClientError }).error;
      expect(e).toBeInstanceOf(HttpClientError);
      expect(e.code).toBe('ERR_BAD_RESPONSE');
      expect(e.statusCode).toBe(200);
      expect(e.message).toMatch(/not valid JSON/);
      expect(e.attempts).toBe(1);
    }
    // Each call completed exactly once (its breaker permit and metrics were settled).
    expect(completed.filter((e) => e.route === '/malformed/x' && e.outcome === 'error')).toHaveLength(30);
    const row = await scenario.finish('1 attempt per call (a bad body is not retried)');
    expect(row).toMatchObject({ attempted: 30, succeeded: 0, failedReported: 30, lost: 0, unhandledRejections: 0 });
  });

  it('a body over maxContentLength fails with a clear error naming the limit, attempts counted', async () => {
    scenario = new Scenario(
      `body over http.maxContentLength (${MAX_CONTENT} B; 20 with Content-Length, 20 chunked, 10 small)`,
    );
    const sized = Array.from({ length: 20 }, () => scenario!.http(() => client('big').get('/big/sized'), DEADLINE));
    const chunked = Array.from({ length: 20 }, () => scenario!.http(() => client('big').get('/big/chunked'), DEADLINE));
    const small = Array.from({ length: 10 }, () => scenario!.http(() => client('big').get('/small/1'), DEADLINE));
    const [s, c, ok] = await Promise.all([Promise.all(sized), Promise.all(chunked), Promise.all(small)]);
    for (const o of [...s, ...c]) {
      const e = (o as { error: HttpClientError }).error;
      expect(e).toBeInstanceOf(HttpClientError);
      expect(e.message).toMatch(new RegExp(`maxContentLength.*${MAX_CONTENT}|${MAX_CONTENT}.*maxContentLength`));
      expect(e.code).toBe('ERR_BAD_RESPONSE');
      expect(e.attempts).toBe(1);
    }
    expect(ok.every((o) => o.ok)).toBe(true);
    const row = await scenario.finish('1 attempt per call (not retried: the answer would be as big again)');
    expect(row).toMatchObject({ attempted: 50, succeeded: 10, failedReported: 40, lost: 0, unhandledRejections: 0 });
  });

  it('a host name that does not resolve (.invalid) is reported (EAI_AGAIN / ENOTFOUND), never a hang', async () => {
    scenario = new Scenario('host name does not resolve: http://kugel-nowhere.invalid (20 GETs, retries 2)');
    const { outcomes, unhandled } = await runDnsProbe(20);
    for (const o of outcomes) {
      if (o.kind === 'reported') {
        scenario.attempted += 1;
        scenario.failedReported += 1;
        scenario.codes.set(o.code ?? 'unknown', (scenario.codes.get(o.code ?? 'unknown') ?? 0) + 1);
        expect(o.code).toMatch(/^(EAI_AGAIN|ENOTFOUND)$/);
        expect(o.message).toMatch(/kugel-nowhere\.invalid/);
      } else {
        scenario.attempted += 1;
        if (o.kind === 'value') scenario.succeeded += 1;
        else
          scenario.markLost(o.kind === 'timeout' ? 'no outcome within 20 s' : `not an HttpClientError: ${o.message}`);
      }
    }
    scenario.unhandledRejections += unhandled;
    const attempts = outcomes.map((o) => (o.kind === 'reported' ? o.attempts : 0));
    const row = await scenario.finish(
      `in a child process with loopback only (no DNS packet leaves the machine); attempts per call: ${[...new Set(attempts)].join('/')} (EAI_AGAIN never reached a server: retried; ENOTFOUND: not)`,
    );
    expect(row).toMatchObject({ attempted: 20, succeeded: 0, failedReported: 20, lost: 0, unhandledRejections: 0 });
  });
});

type ProbeOutcome =
  | { kind: 'value' }
  | { kind: 'reported'; code?: string; attempts: number; message: string }
  | { kind: 'other'; message: string }
  | { kind: 'timeout' };

/**
 * Runs test/faults/fixtures/dns-probe.ts in a child process that can reach nothing but loopback:
 * as is when this process already runs in such a network namespace (CI), else under
 * `unshare -n` (root) or `unshare -rn` (user namespaces). Fails, naming what is missing, when
 * neither is possible: a real DNS query must not leave the machine.
 */
async function runDnsProbe(calls: number): Promise<{ outcomes: ProbeOutcome[]; unhandled: number }> {
  const root = path.resolve(__dirname, '..', '..');
  const args = [
    '-r',
    'ts-node/register/transpile-only',
    path.join(__dirname, 'fixtures', 'dns-probe.ts'),
    String(calls),
  ];
  const prefix = loopbackOnlyPrefix();
  const [cmd, ...rest] = [...prefix, process.execPath, ...args];
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      cmd,
      rest,
      { cwd: root, timeout: 60_000, env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'tsconfig.json') } },
      (error, out, err) => {
        teeToScan(`[dns-probe stdout] ${out}\n[dns-probe stderr] ${err}`);
        if (error) reject(new Error(`dns-probe failed: ${error.message}\n${err.slice(-2000)}`));
        else resolve({ stdout: out, stderr: err });
      },
    );
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as { outcomes: ProbeOutcome[]; unhandled: number };
  } catch {
    throw new Error(`dns-probe printed no result:\n${stdout.slice(-1000)}\n${stderr.slice(-1000)}`);
  }
}

function loopbackOnlyPrefix(): string[] {
  const interfaces = fs
    .readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
  if (interfaces.every((name) => name === 'lo')) return [];
  for (const prefix of [
    ['unshare', '-n'],
    ['unshare', '-rn'],
  ]) {
    try {
      execFileSync(prefix[0], [...prefix.slice(1), 'true'], { stdio: 'ignore' });
      return prefix;
    } catch {
      // try the next way
    }
  }
  throw new Error(
    `the DNS scenario needs a network namespace with loopback only (this one has ${interfaces.join(', ')}): ` +
      'run the tests as root, enable unprivileged user namespaces for `unshare -rn`, or run them inside `unshare -n`',
  );
}
