import * as http from 'node:http';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Index of the TCP connection the request came on (0 = first connection). */
  socket: number;
}

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Connections accepted so far. */
  connections: number;
  /** Most connections open at the same time. */
  maxConcurrentConnections: number;
  /** Connections open now. */
  openConnections: number;
  server: http.Server;
  close(): Promise<void>;
}

export type TestHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  body: string,
  recorded: RecordedRequest,
) => unknown;

/**
 * A real `node:http` server on 127.0.0.1, port 0, that records every request (method, URL as
 * received, headers, body, which connection) and counts connections.
 */
export async function startTestServer(
  handler: TestHandler,
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<TestServer> {
  const state = { requests: [] as RecordedRequest[], connections: 0, open: 0, max: 0 };
  const sockets = new Set<import('node:net').Socket>();
  const socketIds = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        socket: socketIds.get(req.socket) ?? -1,
      };
      state.requests.push(recorded);
      Promise.resolve(handler(req, res, recorded.body, recorded)).catch((error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on('connection', (socket) => {
    socketIds.set(socket, state.connections);
    state.connections += 1;
    state.open += 1;
    state.max = Math.max(state.max, state.open);
    sockets.add(socket);
    socket.on('close', () => {
      state.open -= 1;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: state.requests,
    get connections() {
      return state.connections;
    },
    get maxConcurrentConnections() {
      return state.max;
    },
    get openConnections() {
      return state.open;
    },
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON answer. */
export function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A port that was free a moment ago and has nothing listening (for "connection refused"). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP server that accepts every connection and never answers (it closes its side only after the client). */
export interface SilentTcpServer {
  port: number;
  url: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Resolves when `predicate()` holds (checked every 10 ms), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSilentTcpServer(): Promise<SilentTcpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    result.accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    // Reads and drops what comes, so that the client's FIN is seen and the socket closes.
    socket.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const result: SilentTcpServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    accepted: 0,
    get open() {
      return sockets.size;
    },
    async waitFor(predicate, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return result;
}
