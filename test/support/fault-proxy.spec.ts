import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { FaultProxy } from './fault-proxy';
import { closedPort, startTestServer, TestHandler, TestServer } from './test-server';

/**
 * The fault proxy of the fault suites, between real `node:http` clients (keep-alive agents, and
 * fetch) and real `node:http` servers on port 0. Timing facts are orders and lower bounds only.
 */

interface Answer {
  status: number;
  body: string;
  /** `performance.now()` when the whole answer was in. */
  at: number;
}

interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** One string: a Content-Length body; several: written one by one (chunked). */
  body?: string | string[];
  agent?: http.Agent;
  /** The client gives up after this long (error code CLIENT_TIMEOUT). */
  timeoutMs?: number;
}

/** One request with `node:http`; rejects with the socket error (its `code`) or CLIENT_TIMEOUT. */
function send(proxy: FaultProxy, path: string, options: SendOptions = {}): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const single = typeof options.body === 'string' ? options.body : undefined;
    const req = http.request(`${proxy.url}${path}`, {
      method: options.method ?? 'GET',
      agent: options.agent ?? false,
      headers: { ...(single !== undefined ? { 'content-length': Buffer.byteLength(single) } : {}), ...options.headers },
    });
    req.on('error', reject);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(Object.assign(new Error('client timeout'), { code: 'CLIENT_TIMEOUT' })),
      );
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() }),
      );
    });
    if (Array.isArray(options.body)) for (const piece of options.body) req.write(piece);
    else if (single !== undefined) req.write(single);
    req.end();
  });
}

/** The error a promise rejects with (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<NodeJS.ErrnoException & { at: number }> {
  try {
    await promise;
  } catch (error) {
    return Object.assign(error as NodeJS.ErrnoException, { at: performance.now() });
  }
  throw new Error('expected the call to fail, it succeeded');
}

/**
 * A TCP reset as `node:http` reports it: ECONNRESET from a read. (A plain close is ECONNRESET too,
 * but with the message 'socket hang up'.)
 */
function expectReset(error: NodeJS.ErrnoException): void {
  expect([error.code, error.message]).toEqual(['ECONNRESET', 'read ECONNRESET']);
}

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Bare client sockets of the current test (destroyed after it). */
const sockets: net.Socket[] = [];

/** Connects with a bare socket (for bytes `node:http` would not send, or refusals). */
function connect(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('FaultProxy', () => {
  let upstream: TestServer | undefined;
  let proxy: FaultProxy | undefined;
  const agents: http.Agent[] = [];
  const servers: net.Server[] = [];

  /** A keep-alive agent with a single socket, so every request rides one connection. */
  function keepAlive(): http.Agent {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  }

  /** An upstream echoing method, URL and body as JSON (or `handler`), behind a proxy. */
  async function setUp(handler?: TestHandler, options: { keepAliveTimeoutMs?: number } = {}): Promise<FaultProxy> {
    upstream = await startTestServer(
      handler ??
        ((req, res, body) => {
          const text = JSON.stringify({ method: req.method, url: req.url, body });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        }),
      options,
    );
    proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: upstream.port } });
    return proxy;
  }

  afterEach(async () => {
    for (const agent of agents.splice(0)) agent.destroy();
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy?.close();
    await upstream?.close();
    for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
    proxy = undefined;
    upstream = undefined;
  });

  it('forwards requests and answers unchanged over one keep-alive connection, recording each request', async () => {
    const p = await setUp();
    const agent = keepAlive();
    const before = Date.now();

    const a = await send(p, '/a?x=1', { agent, headers: { 'X-Trace-Id': 'abc' } });
    const b = await send(p, '/b', { agent, method: 'POST', body: 'hello' });
    const c = await send(p, '/c', { agent, method: 'PUT', body: 'xyz' });

    expect([a, b, c].map((r) => [r.status, JSON.parse(r.body)])).toEqual([
      [200, { method: 'GET', url: '/a?x=1', body: '' }],
      [200, { method: 'POST', url: '/b', body: 'hello' }],
      [200, { method: 'PUT', url: '/c', body: 'xyz' }],
    ]);
    expect(upstream!.connections).toBe(1);
    expect(p.stats.connections).toBe(1);
    expect(p.requests.map((r) => [r.method, r.path, r.bodyBytes, r.forwarded, r.status, r.fault])).toEqual([
      ['GET', '/a?x=1', 0, true, 200, undefined],
      ['POST', '/b', 5, true, 200, undefined],
      ['PUT', '/c', 3, true, 200, undefined],
    ]);
    expect(new Set(p.requests.map((r) => r.connectionId))).toEqual(new Set([1]));
    expect(p.requests[0].headers['x-trace-id']).toBe('abc');
    expect(Object.keys(p.requests[0].headers).every((name) => name === name.toLowerCase())).toBe(true);
    const ats = p.requests.map((r) => r.at);
    expect(ats).toEqual([...ats].sort((x, y) => x - y));
    expect(ats[0]).toBeGreaterThanOrEqual(before);

    p.clearRequests();
    expect(p.requests).toEqual([]);
  });

  it('frames chunked bodies both ways: the request after them on the connection is found and answered', async () => {
    const p = await setUp((req, res, body) => {
      if (req.url === '/upload') {
        res.writeHead(200, { 'content-type': 'text/plain' }); // no length: chunked
        res.write(`got ${body.length}:`);
        res.write(body.toUpperCase());
        res.end('!');
        return;
      }
      res.end(`after ${req.method}`);
    });
    const agent = keepAlive();

    const upload = await send(p, '/upload', { agent, method: 'POST', body: ['abc', 'defgh', 'ij'] });
    const after = await send(p, '/after', { agent, method: 'DELETE' });

    expect(upload).toMatchObject({ status: 200, body: 'got 10:ABCDEFGHIJ!' });
    expect(after).toMatchObject({ status: 200, body: 'after DELETE' });
    expect(upstream!.requests.map((r) => [r.url, r.body, r.headers['transfer-encoding']])).toEqual([
      ['/upload', 'abcdefghij', 'chunked'],
      ['/after', '', undefined],
    ]);
    // Decoded body size; the second head was found right after the chunked body, and each answer was framed.
    expect(p.requests.map((r) => [r.method, r.path, r.bodyBytes, r.status, r.connectionId])).toEqual([
      ['POST', '/upload', 10, 200, 1],
      ['DELETE', '/after', 0, 200, 1],
    ]);
  });

  it('frames answers without a body (HEAD, 204, 304) and with one, so a fault lands on its own exchange', async () => {
    const p = await setUp((req, res) => {
      if (req.url === '/head') res.writeHead(200, { 'content-length': '100' }).end();
      else if (req.url === '/empty') res.writeHead(204).end();
      else if (req.url === '/cached') res.writeHead(304, { etag: '"1"' }).end();
      else if (req.url === '/chunked') res.end('x'.repeat(3000));
      else res.end('target');
    });
    const reset = p.addRule({ match: (r) => r.path === '/target', fault: { kind: 'reset-after-request' } });
    const agent = keepAlive();

    expect((await send(p, '/head', { agent, method: 'HEAD' })).status).toBe(200);
    expect((await send(p, '/empty', { agent })).status).toBe(204);
    expect((await send(p, '/cached', { agent })).status).toBe(304);
    expect((await send(p, '/chunked', { agent })).body).toHaveLength(3000);
    const error = await failure(send(p, '/target', { agent, timeoutMs: 10000 }));

    expectReset(error);
    expect(reset.hits).toBe(1);
    expect(upstream!.connections).toBe(1);
    expect(upstream!.requests.map((r) => r.url)).toEqual(['/head', '/empty', '/cached', '/chunked', '/target']);
    expect(p.requests.map((r) => [r.path, r.status, r.connectionId])).toEqual([
      ['/head', 200, 1],
      ['/empty', 204, 1],
      ['/cached', 304, 1],
      ['/chunked', 200, 1],
      ['/target', 200, 1],
    ]);
  });

  it('passes two requests that arrive in one chunk, answering both in order', async () => {
    const p = await setUp((req, res, body) => res.end(`${req.url}:${body}`));
    p.addRule({ match: (r) => r.path === '/one', fault: { kind: 'latency', ms: 200 } });
    const socket = await connect(p.port);
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));

    socket.write(
      'GET /one HTTP/1.1\r\nHost: x\r\n\r\n' + 'POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc',
    );
    await until(() => received.includes('/two:abc'));

    expect(received.indexOf('/one:')).toBeGreaterThan(0);
    expect(received.indexOf('/one:')).toBeLessThan(received.indexOf('/two:abc'));
    expect(upstream!.requests.map((r) => [r.url, r.body])).toEqual([
      ['/one', ''],
      ['/two', 'abc'],
    ]);
    expect(p.requests.map((r) => [r.path, r.bodyBytes, r.fault, r.status])).toEqual([
      ['/one', 0, 'latency', 200],
      ['/two', 3, undefined, 200],
    ]);
  });

  it('latency: the upstream acts at once, the answer reaches the client at least ms later', async () => {
    let handledAt = 0;
    const p = await setUp((_req, res) => {
      handledAt = performance.now();
      res.writeHead(201).end('created');
    });
    const rule = p.addRule({ match: (r) => r.method === 'POST', fault: { kind: 'latency', ms: 400 } });

    const answer = await send(p, '/orders', { method: 'POST', body: '{"n":1}' });

    expect(answer).toMatchObject({ status: 201, body: 'created' });
    expect(handledAt).toBeGreaterThan(0);
    expect(handledAt).toBeLessThan(answer.at);
    expect(answer.at - handledAt).toBeGreaterThanOrEqual(395);
    expect(rule.hits).toBe(1);
    expect(p.requests[0]).toMatchObject({ method: 'POST', fault: 'latency', forwarded: true, status: 201 });
  });

  it('latency: a client with a shorter timeout gives up although the upstream acted (node:http and fetch)', async () => {
    const p = await setUp();
    p.addRule({ fault: { kind: 'latency', ms: 5000 } });

    const error = await failure(send(p, '/pay', { method: 'POST', body: 'amount=1', timeoutMs: 1000 }));
    // The upstream had the request (and answered) before the client gave up: no waiting for it here.
    expect(error.code).toBe('CLIENT_TIMEOUT');
    expect(upstream!.requests.map((r) => [r.method, r.url, r.body])).toEqual([['POST', '/pay', 'amount=1']]);
    expect(p.requests[0].status).toBe(200);

    const fetchError = await failure(
      fetch(`${p.url}/pay-again`, { method: 'POST', body: 'amount=2', signal: AbortSignal.timeout(1000) }),
    );
    expect(fetchError.name).toBe('TimeoutError');
    expect(upstream!.requests.map((r) => r.url)).toEqual(['/pay', '/pay-again']);
    expect(p.requests[1]).toMatchObject({ path: '/pay-again', bodyBytes: 8, status: 200 });
  });

  it('reset-after-request: the upstream gets the whole request and answers, the client gets ECONNRESET', async () => {
    let handledAt = 0;
    const p = await setUp((_req, res) => {
      handledAt = performance.now();
      res.end('done');
    });
    const rule = p.addRule({ fault: { kind: 'reset-after-request' } });

    const error = await failure(send(p, '/charge', { method: 'POST', body: 'card=4242', timeoutMs: 10000 }));

    expectReset(error);
    expect(upstream!.requests).toHaveLength(1);
    expect(upstream!.requests[0]).toMatchObject({ method: 'POST', url: '/charge', body: 'card=4242' });
    expect(handledAt).toBeGreaterThan(0);
    expect(handledAt).toBeLessThan(error.at);
    expect(p.stats.resets).toBe(1);
    expect(rule.hits).toBe(1);
    expect(p.requests[0]).toMatchObject({ forwarded: true, fault: 'reset-after-request', bodyBytes: 9, status: 200 });
  });

  it('reset-before-forward: the request is read in full, nothing reaches the upstream, the client gets ECONNRESET', async () => {
    const p = await setUp();
    p.addRule({ fault: { kind: 'reset-before-forward' } });

    const error = await failure(send(p, '/charge', { method: 'POST', body: ['card=', '4242'], timeoutMs: 10000 }));

    expectReset(error);
    expect(p.requests).toHaveLength(1);
    expect(p.requests[0]).toMatchObject({
      path: '/charge',
      forwarded: false,
      fault: 'reset-before-forward',
      bodyBytes: 9,
    });
    expect(p.stats.resets).toBe(1);
    // Give a forwarded request every chance to arrive before saying none did.
    await new Promise((r) => setTimeout(r, 200));
    expect(upstream!.requests).toEqual([]);
  });

  it('blackhole: the request is not forwarded and never answered; the connection stays open until the client gives up', async () => {
    const p = await setUp();
    p.addRule({ fault: { kind: 'blackhole' } });

    const error = await failure(send(p, '/charge', { method: 'POST', body: 'card=4242', timeoutMs: 600 }));

    expect(error.code).toBe('CLIENT_TIMEOUT');
    expect(upstream!.requests).toEqual([]);
    expect(p.requests[0]).toMatchObject({ forwarded: false, fault: 'blackhole', bodyBytes: 9 });
    expect(p.stats.resets).toBe(0);
  });

  it('blackhole-after-forward: the upstream acts and answers, the answer is swallowed, the connection held', async () => {
    // The upstream closes its idle connection 100 ms after answering: a held connection must not pass that on.
    const p = await setUp(
      (_req, res) => {
        res.writeHead(201).end('created');
      },
      { keepAliveTimeoutMs: 100 },
    );
    p.addRule({ fault: { kind: 'blackhole-after-forward' } });

    const error = await failure(send(p, '/orders', { method: 'POST', body: '{}', timeoutMs: 600 }));

    expect(error.code).toBe('CLIENT_TIMEOUT');
    expect(upstream!.requests.map((r) => [r.method, r.url, r.body])).toEqual([['POST', '/orders', '{}']]);
    expect(p.requests[0]).toMatchObject({ forwarded: true, fault: 'blackhole-after-forward', status: 201 });
    expect(p.stats.resets).toBe(0);
  });

  it('rules: tried in order, match on the head, times limits the hits, remove and clearRules take them out', async () => {
    const p = await setUp();
    const latency = p.addRule({ match: (r) => r.path === '/slow', fault: { kind: 'latency', ms: 1 } });
    const reset = p.addRule({ match: (r) => r.method === 'POST', fault: { kind: 'reset-before-forward' }, times: 2 });
    p.addRule({
      match: () => {
        throw new Error('bad rule');
      },
      fault: { kind: 'blackhole' },
    });

    expect((await send(p, '/x')).status).toBe(200);
    expectReset(await failure(send(p, '/p1', { method: 'POST', body: '1' })));
    expect((await send(p, '/slow', { method: 'POST', body: '2' })).status).toBe(200);
    expectReset(await failure(send(p, '/p3', { method: 'POST', body: '3' })));
    expect((await send(p, '/p4', { method: 'POST', body: '4' })).status).toBe(200);

    expect(reset.hits).toBe(2);
    expect(latency.hits).toBe(1);
    expect(upstream!.requests.map((r) => r.url)).toEqual(['/x', '/slow', '/p4']);
    expect(p.requests.map((r) => [r.path, r.fault])).toEqual([
      ['/x', undefined],
      ['/p1', 'reset-before-forward'],
      ['/slow', 'latency'],
      ['/p3', 'reset-before-forward'],
      ['/p4', undefined],
    ]);
    expect(p.matchErrors.length).toBeGreaterThan(0);

    const again = p.addRule({ fault: { kind: 'reset-before-forward' } });
    expectReset(await failure(send(p, '/gone')));
    again.remove();
    expect((await send(p, '/back')).status).toBe(200);
    expect(again.hits).toBe(1);

    p.clearRules();
    expect((await send(p, '/slow')).status).toBe(200);
    expect(latency.hits).toBe(1);
    expect(p.requests.at(-1)?.path).toBe('/slow');
    expect(p.requests.at(-1)?.fault).toBeUndefined();
  });

  it('setLatency delays every chunk in both directions, keeping their order', async () => {
    let handledAt = 0;
    const p = await setUp((_req, res) => {
      handledAt = performance.now();
      res.writeHead(200);
      let i = 0;
      const next = () => {
        if (i === 20) return void res.end();
        res.write(`${i++},`);
        setImmediate(next);
      };
      next();
    });
    p.setLatency(150);

    const sentAt = performance.now();
    const answer = await send(p, '/stream');

    expect(answer.body).toBe(Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
    expect(handledAt - sentAt).toBeGreaterThanOrEqual(145);
    expect(answer.at - handledAt).toBeGreaterThanOrEqual(145);

    p.setLatency(0);
    expect((await send(p, '/again')).status).toBe(200);
  });

  it('refuseNew: new connections are refused while open ones carry on; listening again uses the same port', async () => {
    const p = await setUp();
    const port = p.port;
    const agent = keepAlive();
    expect((await send(p, '/first', { agent })).status).toBe(200);

    await p.refuseNew(true);
    expect((await failure(connect(port))).code).toBe('ECONNREFUSED');
    expect((await send(p, '/same-connection', { agent })).status).toBe(200);

    await p.refuseNew(false);
    expect(p.port).toBe(port);
    expect((await send(p, '/new-connection')).status).toBe(200);

    expect(p.stats.connections).toBe(2);
    expect(p.requests.map((r) => [r.path, r.connectionId])).toEqual([
      ['/first', 1],
      ['/same-connection', 1],
      ['/new-connection', 2],
    ]);
  });

  it('resetAll resets every open connection now, an exchange in flight included', async () => {
    let release: (() => void) | undefined;
    const p = await setUp((req, res) => {
      if (req.url === '/slow') release = () => res.end('late');
      else res.end('ok');
    });
    const pending = failure(send(p, '/slow', { timeoutMs: 10000 }));
    await until(() => release !== undefined);
    const idleSocket = await connect(p.port);
    const idleClosed = new Promise<NodeJS.ErrnoException | undefined>((r) => {
      idleSocket.once('error', r);
      idleSocket.once('close', () => r(undefined));
    });
    await until(() => p.openConnections === 2);

    expect(p.resetAll()).toBe(2);

    expectReset(await pending);
    expect((await idleClosed)?.code).toBe('ECONNRESET');
    expect(p.stats.resets).toBe(2);
    await until(() => p.openConnections === 0);
    release!(); // the upstream answering on a connection that is gone harms nothing
    expect((await send(p, '/after')).body).toBe('ok');
  });

  it('closes the client promptly when the upstream is down or dies mid-exchange, and survives clients resetting', async () => {
    upstream = await startTestServer((req, res) => {
      if (req.url === '/die') req.socket.destroy();
      else res.end('ok');
    });
    proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: await closedPort() } });

    // Promptly: long before the client's own timeout. The reset may meet the request's write (EPIPE).
    expect(['ECONNRESET', 'EPIPE']).toContain((await failure(send(proxy, '/anything', { timeoutMs: 5000 }))).code);
    expect(proxy.stats.resets).toBe(1);
    await proxy.close();

    proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: upstream.port } });
    // The upstream closing mid-exchange reaches the client as a close ('socket hang up') or a reset.
    expect((await failure(send(proxy, '/die', { timeoutMs: 5000 }))).code).toBe('ECONNRESET');

    const rude = await connect(proxy.port);
    rude.write('POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc');
    await until(() => proxy!.requests.some((r) => r.path === '/half'));
    rude.resetAndDestroy();
    await until(() => proxy!.openConnections === 0);

    expect((await send(proxy, '/still-fine')).body).toBe('ok');
  });

  it('passes bytes that are not HTTP through unchanged', async () => {
    const echo = net.createServer((s) => s.on('data', (c) => s.write(c)).on('error', () => undefined));
    servers.push(echo);
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port } });
    const socket = await connect(proxy.port);
    let received = '';
    socket.on('data', (c: Buffer) => (received += c.toString('latin1')));

    socket.write('HELLO there\r\n');
    socket.write(Buffer.from([0, 1, 2, 255]));
    await until(() => received.length === 17);

    expect(received).toBe('HELLO there\r\n\u0000\u0001\u0002\u00ff');
    expect(proxy.requests).toEqual([]);
  });

  it('close() destroys every connection, held ones included, and a new proxy can take the same port', async () => {
    const p = await setUp();
    p.addRule({ match: (r) => r.path === '/held', fault: { kind: 'blackhole' } });
    const agent = keepAlive();
    expect((await send(p, '/idle', { agent })).status).toBe(200);
    const held = failure(send(p, '/held', { timeoutMs: 5000 }));
    await until(() => p.requests.length === 2 && p.openConnections === 2);
    const port = p.port;

    await p.close();

    expect(p.openConnections).toBe(0);
    expect((await held).code).toBe('ECONNRESET'); // 'socket hang up', well before the client's timeout
    expect((await failure(connect(port))).code).toBe('ECONNREFUSED');

    proxy = await FaultProxy.start({ upstream: { host: '127.0.0.1', port: upstream!.port }, port });
    expect(proxy.port).toBe(port);
    expect((await send(proxy, '/reborn')).status).toBe(200);
  });
});
