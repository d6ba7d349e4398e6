import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { EventSource } from '../../lib/common/event';

/** One accepted WebSocket handshake. */
export interface WsHandshake {
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface WsTestServerOptions {
  /** Answer pings (default true). `false` makes a peer that stops answering without closing. */
  autoPong?: boolean;
  /** `maxPayload` of the server (default: ws's). */
  maxPayload?: number;
  /** Called first for every upgrade: return true when it handled the socket itself (refused it, stalled it...). */
  intercept?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** Called for every accepted connection. */
  onConnection?: (ws: WebSocket, req: http.IncomingMessage, raw: Duplex) => void;
  /** TLS key and certificate: serve wss. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/**
 * A real `ws` server on 127.0.0.1 (port 0 at first), recording handshakes (URL and headers as
 * received), text messages in arrival order and TCP connections. `stop()` kills it abruptly (every
 * socket destroyed, listener closed); `restart()` listens again on the same port.
 */
export class WsTestServer {
  readonly handshakes: WsHandshake[] = [];
  readonly messages: string[] = [];
  /** Text messages per accepted connection, in order of acceptance. */
  readonly perConnection: string[][] = [];
  /** Close codes the server saw, per closed connection (1006: no close frame came). */
  readonly closeCodes: number[] = [];
  /** TCP connections accepted (upgrades or not). */
  tcpConnections = 0;
  readonly sockets = new Set<WebSocket>();
  readonly changed = new EventEmitter();
  port = 0;
  private readonly raw = new Set<Socket>();
  private server: http.Server;
  private readonly wss: WebSocketServer;

  private constructor(private readonly options: WsTestServerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      autoPong: options.autoPong ?? true,
      ...(options.maxPayload ? { maxPayload: options.maxPayload } : {}),
    });
    this.server = this.createServer();
    this.changed.setMaxListeners(100);
  }

  static async start(options: WsTestServerOptions = {}): Promise<WsTestServer> {
    const s = new WsTestServer(options);
    for (let tries = 1; ; tries += 1) {
      try {
        await s.listen(await restartablePort());
        return s;
      } catch (error) {
        // Taken between the check and the listen: pick another.
        if ((error as { code?: string }).code !== 'EADDRINUSE' || tries >= 5) throw error;
        s.server = s.createServer();
      }
    }
  }

  /** `http://127.0.0.1:<port>` (or `https:`): what a service's base URL would be. */
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** TCP sockets open at the server now. */
  get openTcp(): number {
    return this.raw.size;
  }

  /** Destroys every socket and stops listening (the peer dies without a close frame). */
  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    for (const s of this.raw) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.port);
  }

  close(): Promise<void> {
    return this.server.listening ? this.stop() : Promise.resolve();
  }

  /** Resolves when `predicate()` holds (checked on every change), rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return until(this.changed, 'change', predicate, what, timeoutMs);
  }

  private createServer(): http.Server {
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(426).end();
    const server = this.options.tls ? https.createServer(this.options.tls, handler) : http.createServer(handler);
    server.on('connection', (socket: Socket) => {
      this.tcpConnections += 1;
      this.raw.add(socket);
      socket.on('close', () => {
        this.raw.delete(socket);
        this.changed.emit('change');
      });
      this.changed.emit('change');
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.options.intercept?.(req, socket, head)) {
        this.changed.emit('change');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.handshakes.push({ url: req.url ?? '', headers: req.headers });
        const mine: string[] = [];
        this.perConnection.push(mine);
        this.sockets.add(ws);
        ws.on('close', (code) => {
          this.closeCodes.push(code);
          this.sockets.delete(ws);
          this.changed.emit('change');
        });
        ws.on('error', () => undefined);
        ws.on('message', (data, isBinary) => {
          const text = isBinary ? `binary:${(data as Buffer).toString('hex')}` : data.toString();
          this.messages.push(text);
          mine.push(text);
          this.changed.emit('change');
        });
        this.options.onConnection?.(ws, req, socket);
        this.changed.emit('change');
      });
    });
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}

/** Lowest port of the kernel's ephemeral range (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free loopback port below the kernel's ephemeral range, for a server that is restarted on the
 * same port. A port 0 listener gets an ephemeral port, and a client that keeps reconnecting to
 * 127.0.0.1:<p> while nothing listens there is sooner or later given <p> itself as its source port
 * (the kernel walks the range for one destination): the socket connects to itself (TCP
 * simultaneous open), holds the port, and the restarted server fails with EADDRINUSE. Real peers
 * are on other hosts; on loopback a port outside the range avoids it.
 */
export async function restartablePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1025, high - 20_000);
  for (let i = 0; i < 100; i += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const probe = net.createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port between ${low} and ${high}`);
}

/** Resolves when `predicate()` holds, checked now and on every `event` of `emitter`. */
export function until(
  emitter: EventEmitter,
  event: string,
  predicate: () => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, check);
    };
    emitter.on(event, check);
  });
}

/** The next event of `source` that matches, or a rejection after `timeoutMs`. */
export function nextEvent<T>(
  source: EventSource<T>,
  what: string,
  match: (e: T) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = source.on((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
  });
}
