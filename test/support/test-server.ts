import * as http from 'node:http';
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
