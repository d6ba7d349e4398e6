import * as net from 'node:net';
import { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A fault-injecting TCP proxy that understands HTTP/1.1 framing, for the test suites.
 *
 * It sits between a client and its upstream (the app and daprd's HTTP API, the app and a peer,
 * daprd and the app) and forwards bytes both ways unchanged. Because it frames requests and
 * responses, it can apply a fault to one exchange: hold its answer back (a latency fault, so a
 * client times out although the upstream acted), reset the client once the upstream acted, drop
 * the request, or swallow the answer. Connection-level switches (latency on every chunk, refusing
 * new connections, resetting every open one) make random fault histories. It runs in the test
 * process and is driven through its API at runtime; it never throws on socket errors.
 *
 * Bytes it cannot frame (not HTTP, an upgraded or CONNECT tunnel, an over-long head) are passed
 * through raw for the rest of that connection, with connection-level latency only.
 */

/** One fault, applied to one request/response exchange. */
export type Fault =
  /** The request is forwarded at once; the answer is held back `ms` from its first byte on. */
  | { kind: 'latency'; ms: number }
  /** The request is forwarded in full; when the answer starts, the client gets a TCP RST instead. */
  | { kind: 'reset-after-request' }
  /** The request is read in full, not forwarded, and the client gets a TCP RST. */
  | { kind: 'reset-before-forward' }
  /** The request is read, not forwarded, never answered; the connection stays open. */
  | { kind: 'blackhole' }
  /** The request is forwarded in full; the answer is swallowed and the connection stays open. */
  | { kind: 'blackhole-after-forward' };

export type FaultKind = Fault['kind'];

/** A request the proxy read from a client (live object: `bodyBytes` and `status` fill in later). */
export interface ProxiedRequest {
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  /** Header names in lower case; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Body bytes read so far (decoded size for a chunked body). */
  bodyBytes: number;
  /** `Date.now()` when the request head arrived. */
  at: number;
  /** Which client connection it came on (1 = the first the proxy accepted). */
  connectionId: number;
  /** Whether it was passed to the upstream (false for `blackhole` and `reset-before-forward`). */
  forwarded: boolean;
  /** The fault a rule applied to this exchange, if any. */
  fault?: FaultKind;
  /** Status of the final answer the upstream sent, once its head arrived (even if swallowed). */
  status?: number;
}

/** A fault rule: rules are tried in order at each request head, the first that matches applies. */
export interface FaultRule {
  /** Which exchanges it applies to (sees the request head; `bodyBytes` is still 0). Default: every one. */
  match?: (req: ProxiedRequest) => boolean;
  fault: Fault;
  /** How many exchanges it hits at most (default: unlimited). */
  times?: number;
}

/** What `addRule` returns. */
export interface RuleHandle {
  readonly rule: FaultRule;
  /** Exchanges this rule has hit so far. */
  readonly hits: number;
  /** Takes the rule out (exchanges it already hit keep their fault). */
  remove(): void;
}

export interface FaultProxyOptions {
  upstream: { host: string; port: number };
  /** Port to listen on (default 0: any free port; restart a proxy on the port of an earlier one). */
  port?: number;
}

export interface FaultProxyStats {
  /** Client connections accepted. */
  connections: number;
  /** TCP resets sent to clients (by faults, `resetAll`, or an upstream that was down or reset). */
  resets: number;
}

const HOST = '127.0.0.1';
/** A head longer than this is not HTTP as these tests speak it: the connection goes raw. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Queued bytes past which the sending side is paused until its queue drains. */
const HIGH_WATER_BYTES = 1024 * 1024;
const EMPTY: Buffer = Buffer.alloc(0);

/** The proxy. `FaultProxy.start(...)`, then `url` for the client, `close()` at the end. */
export class FaultProxy {
  /** Every request read from a client, in order of arrival (see `forwarded`). */
  readonly requests: ProxiedRequest[] = [];
  readonly stats: FaultProxyStats = { connections: 0, resets: 0 };
  /** Errors thrown by rules' `match` (such a rule counts as not matching). */
  readonly matchErrors: unknown[] = [];
  /** @internal */
  latencyMs = 0;
  private readonly rules: Array<{ rule: FaultRule; hits: number }> = [];
  private readonly links = new Set<Link>();
  private server?: net.Server;
  private listenPort: number;
  private closed = false;
  private nextConnectionId = 1;

  private constructor(
    readonly upstream: { host: string; port: number },
    port: number,
  ) {
    this.listenPort = port;
  }

  /** Starts a proxy to `upstream`, listening on 127.0.0.1. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy({ ...options.upstream }, options.port ?? 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.listenPort;
  }

  get url(): string {
    return `http://${HOST}:${this.listenPort}`;
  }

  /** Client connections open now. */
  get openConnections(): number {
    return this.links.size;
  }

  /** Forgets the recorded requests. */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Adds a rule after the existing ones. */
  addRule(rule: FaultRule): RuleHandle {
    const entry = { rule, hits: 0 };
    this.rules.push(entry);
    return {
      rule,
      get hits() {
        return entry.hits;
      },
      remove: () => {
        const i = this.rules.indexOf(entry);
        if (i >= 0) this.rules.splice(i, 1);
      },
    };
  }

  clearRules(): void {
    this.rules.length = 0;
  }

  /** Delays every chunk read from now on, in both directions, by `ms` (order kept); 0 turns it off. */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /**
   * `true` stops listening, so new connections are refused (the open ones carry on);
   * `false` listens again on the same port.
   */
  async refuseNew(refuse: boolean): Promise<void> {
    if (this.closed) return;
    if (refuse) {
      const server = this.server;
      this.server = undefined;
      // Stops accepting at once; its 'close' waits for the open connections, which go on.
      server?.close();
    } else if (!this.server) {
      await this.listen();
    }
  }

  /** Resets (TCP RST) every open client connection now; returns how many. */
  resetAll(): number {
    let n = 0;
    for (const link of [...this.links]) if (link.reset()) n += 1;
    return n;
  }

  /** Stops listening and destroys every connection; resolves once all are closed. */
  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = undefined;
    const waits: Array<Promise<void>> = [...this.links].map((link) => link.destroy());
    if (server) waits.push(new Promise<void>((resolve) => server.close(() => resolve())));
    await Promise.all(waits);
  }

  /** @internal The rule for a request head, counting its hit. */
  pick(req: ProxiedRequest): Fault | undefined {
    for (const entry of this.rules) {
      if (entry.rule.times !== undefined && entry.hits >= entry.rule.times) continue;
      let matches: boolean;
      try {
        matches = entry.rule.match ? entry.rule.match(req) : true;
      } catch (error) {
        this.matchErrors.push(error);
        matches = false;
      }
      if (!matches) continue;
      entry.hits += 1;
      return entry.rule.fault;
    }
    return undefined;
  }

  /** @internal */
  countReset(): void {
    this.stats.resets += 1;
  }

  /** @internal */
  forget(link: Link): void {
    this.links.delete(link);
  }

  private listen(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    // A listening socket fails only at listen time (handled below) or not at all.
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(this.listenPort, HOST, () => {
        server.off('error', onError);
        server.on('error', () => undefined);
        this.listenPort = (server.address() as AddressInfo).port;
        this.server = server;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    if (this.closed) {
      client.on('error', () => undefined);
      client.destroy();
      return;
    }
    this.stats.connections += 1;
    this.links.add(new Link(this, this.nextConnectionId++, client));
  }
}

/**
 * The bytes queued for one socket, each released no earlier than its time: connection latency
 * (arrival + ms) or a held answer. Written strictly in order; actions (end, reset) queue behind data.
 */
class Outbox {
  private items: Array<{ at: number; data?: Buffer; action?: () => void }> = [];
  private timer?: NodeJS.Timeout;
  private waitingForDrain = false;
  private disposed = false;
  private queuedBytes = 0;

  constructor(
    private readonly socket: Socket,
    private readonly latencyMs: () => number,
    private readonly onPressure: (high: boolean) => void,
  ) {}

  write(data: Buffer, notBefore = 0): void {
    if (this.disposed || data.length === 0) return;
    this.queuedBytes += data.length;
    if (this.queuedBytes > HIGH_WATER_BYTES) this.onPressure(true);
    this.enqueue({ at: Math.max(performance.now() + this.latencyMs(), notBefore), data });
  }

  /** Runs `action` once everything queued before it is written. */
  then(action: () => void, notBefore = 0): void {
    if (this.disposed) return;
    this.enqueue({ at: Math.max(performance.now() + this.latencyMs(), notBefore), action });
  }

  get idle(): boolean {
    return this.items.length === 0 && !this.waitingForDrain;
  }

  dispose(): void {
    this.disposed = true;
    this.items = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(item: { at: number; data?: Buffer; action?: () => void }): void {
    this.items.push(item);
    if (!this.timer && !this.waitingForDrain) this.pump();
  }

  private readonly pump = (): void => {
    this.timer = undefined;
    while (!this.disposed && !this.waitingForDrain && this.items.length > 0) {
      const item = this.items[0];
      const wait = item.at - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(this.pump, Math.ceil(wait));
        return;
      }
      this.items.shift();
      if (item.action) {
        item.action();
        continue;
      }
      const data = item.data as Buffer;
      this.queuedBytes -= data.length;
      if (this.queuedBytes <= HIGH_WATER_BYTES / 4) this.onPressure(false);
      if (this.socket.destroyed || this.socket.writableEnded) continue;
      if (!this.socket.write(data)) {
        this.waitingForDrain = true;
        this.socket.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
      }
    }
  };
}

/** How the body of one message is delimited. */
type Framing =
  | { kind: 'none' }
  | { kind: 'length'; bytes: number }
  | { kind: 'chunked' }
  | { kind: 'until-close' }
  /** No body, and everything after the head is raw bytes (101 Switching Protocols, CONNECT). */
  | { kind: 'tunnel' };

interface Head {
  startLine: string;
  headers: Record<string, string>;
}

interface ReaderEvents {
  /** A whole head arrived (`raw` is its bytes); returns how its body is delimited. */
  head(head: Head, raw: Buffer): Framing;
  /** Body bytes as sent, with the payload size they carry. */
  body(raw: Buffer, payloadBytes: number): void;
  /** The message is complete. */
  end(): void;
  /** Bytes outside HTTP framing (a tunnel, or something that did not parse). */
  raw(raw: Buffer): void;
}

/** Splits one direction's byte stream into HTTP/1.1 messages without changing a byte. */
class HttpReader {
  private state: 'head' | 'body' | 'raw' | 'stopped' = 'head';
  private pending: Buffer = EMPTY;
  private framing: Framing = { kind: 'none' };
  private remaining = 0;
  private chunkPhase: 'size' | 'data' | 'data-crlf' | 'trailer' = 'size';
  private line = '';

  /**
   * @param startLine what a request or status line looks like
   * @param prefix what every such line starts with ('' for requests, 'HTTP/' for answers)
   */
  constructor(
    private readonly startLine: RegExp,
    private readonly prefix: string,
    private readonly events: ReaderEvents,
  ) {}

  /** Everything from now on is passed through raw. */
  goRaw(): void {
    if (this.state === 'stopped' || this.state === 'raw') return;
    this.state = 'raw';
    const pending = this.pending;
    this.pending = EMPTY;
    if (pending.length > 0) this.events.raw(pending);
  }

  /** Everything from now on is ignored. */
  stop(): void {
    this.state = 'stopped';
    this.pending = EMPTY;
  }

  feed(data: Buffer): void {
    let buf = data;
    while (buf.length > 0) {
      if (this.state === 'stopped') return;
      if (this.state === 'raw') {
        this.events.raw(buf);
        return;
      }
      if (this.state === 'head') {
        buf = this.readHead(buf);
        continue;
      }
      buf = buf.subarray(this.readBody(buf));
    }
  }

  /** The sender closed: a body delimited by the close ends here. */
  senderEnded(): void {
    if (this.state === 'body' && this.framing.kind === 'until-close') this.finish();
  }

  private readHead(buf: Buffer): Buffer {
    const joined = this.pending.length > 0 ? Buffer.concat([this.pending, buf]) : buf;
    this.pending = EMPTY;
    // Empty lines before a message are allowed (RFC 9112 §2.2); they go along with its head.
    let start = 0;
    while (joined[start] === 0x0d || joined[start] === 0x0a) start += 1;
    const end = joined.indexOf('\r\n\r\n', start);
    if (end < 0) {
      if (joined.length > MAX_HEAD_BYTES || !this.mayBeHead(joined, start)) this.fallBackToRaw(joined);
      else this.pending = joined;
      return EMPTY;
    }
    const head = this.parseHead(joined.toString('latin1', start, end));
    if (!head) {
      this.fallBackToRaw(joined);
      return EMPTY;
    }
    const framing = this.events.head(head, joined.subarray(0, end + 4));
    const rest = joined.subarray(end + 4);
    if (this.state !== 'head') return rest; // stopped by the handler
    this.framing = framing;
    switch (framing.kind) {
      case 'none':
        this.finish();
        break;
      case 'tunnel':
        this.events.end();
        this.goRaw();
        break;
      case 'length':
        this.remaining = framing.bytes;
        if (this.remaining === 0) this.finish();
        else this.state = 'body';
        break;
      case 'chunked':
        this.chunkPhase = 'size';
        this.line = '';
        this.state = 'body';
        break;
      case 'until-close':
        this.state = 'body';
        break;
    }
    return rest;
  }

  /** Whether an incomplete head can still become one (else it is another protocol: go raw at once). */
  private mayBeHead(buf: Buffer, start: number): boolean {
    const nl = buf.indexOf(0x0a, start);
    const lineEnd = nl < 0 ? buf.length : nl;
    for (let i = start; i < lineEnd; i += 1) {
      const b = buf[i];
      if ((b < 0x20 && b !== 0x0d && b !== 0x09) || b > 0x7e) return false;
    }
    const prefix = buf.toString('latin1', start, Math.min(lineEnd, start + this.prefix.length));
    if (!this.prefix.startsWith(prefix)) return false;
    return nl < 0 || this.startLine.test(buf.toString('latin1', start, nl).replace(/\r$/, ''));
  }

  private parseHead(text: string): Head | undefined {
    const lines = text.split('\r\n');
    const startLine = lines[0];
    if (!this.startLine.test(startLine)) return undefined;
    const headers: Record<string, string> = {};
    let last: string | undefined;
    for (const line of lines.slice(1)) {
      if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
        headers[last] += ` ${line.trim()}`; // obsolete line folding
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
      last = name;
    }
    return { startLine, headers };
  }

  /** Consumes body bytes from `buf`; returns how many. */
  private readBody(buf: Buffer): number {
    if (this.framing.kind === 'until-close') {
      this.events.body(buf, buf.length);
      return buf.length;
    }
    if (this.framing.kind === 'length') {
      const n = Math.min(this.remaining, buf.length);
      this.remaining -= n;
      this.events.body(buf.subarray(0, n), n);
      if (this.remaining === 0) this.finish();
      return n;
    }
    return this.readChunked(buf);
  }

  private readChunked(buf: Buffer): number {
    let i = 0;
    let payload = 0;
    while (i < buf.length) {
      switch (this.chunkPhase) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          i += n;
          payload += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.chunkPhase = 'data-crlf';
            this.remaining = 2;
          }
          break;
        }
        case 'data-crlf': {
          const n = Math.min(this.remaining, buf.length - i);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.chunkPhase = 'size';
          break;
        }
        case 'size':
        case 'trailer': {
          const nl = buf.indexOf(0x0a, i);
          const stop = nl < 0 ? buf.length : nl + 1;
          this.line += buf.toString('latin1', i, stop);
          i = stop;
          if (nl < 0) {
            if (this.line.length > MAX_HEAD_BYTES) return this.chunkError(buf);
            break;
          }
          const line = this.line.trim();
          this.line = '';
          if (this.chunkPhase === 'trailer') {
            if (line === '') {
              this.events.body(buf.subarray(0, i), payload);
              this.finish();
              return i;
            }
            break;
          }
          const size = /^[0-9a-fA-F]+/.exec(line);
          if (!size) return this.chunkError(buf);
          this.remaining = parseInt(size[0], 16);
          this.chunkPhase = this.remaining === 0 ? 'trailer' : 'data';
          break;
        }
      }
    }
    this.events.body(buf, payload);
    return buf.length;
  }

  /** A chunked body that does not parse: the rest of the connection goes raw (`buf` was not passed on yet). */
  private chunkError(buf: Buffer): number {
    this.state = 'raw';
    this.events.raw(buf);
    return buf.length;
  }

  private fallBackToRaw(bytes: Buffer): void {
    this.state = 'raw';
    this.events.raw(bytes);
  }

  private finish(): void {
    if (this.state === 'stopped' || this.state === 'raw') return;
    this.state = 'head';
    this.events.end();
  }
}

/** One forwarded request waiting for (or receiving) its answer. */
interface Exchange {
  record: ProxiedRequest;
  fault?: Fault;
  /** The answer's first byte arrived (faults on the answer are decided then). */
  answered: boolean;
  /** Answer bytes are not released before this (`performance.now()` time). */
  holdUntil: number;
}

const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/\d\.\d$/;
const STATUS_LINE = /^HTTP\/\d\.\d \d{3}( .*)?$/;

/** A client connection and its own connection to the upstream. */
class Link {
  private readonly upstream: Socket;
  private readonly toUpstream: Outbox;
  private readonly toClient: Outbox;
  private readonly requests: HttpReader;
  private readonly responses: HttpReader;
  /** Forwarded requests whose final answer has not ended yet, oldest first. */
  private readonly exchanges: Exchange[] = [];
  private reading?: Exchange;
  private answerIsFinal = false;
  /** A blackhole fault holds the connection: the upstream's answers and its close are ignored. */
  private holding = false;
  private dead = false;
  private readonly closed: Promise<void>;

  constructor(
    private readonly proxy: FaultProxy,
    readonly id: number,
    private readonly client: Socket,
  ) {
    this.upstream = net.connect({ host: proxy.upstream.host, port: proxy.upstream.port, allowHalfOpen: true });
    const latency = () => proxy.latencyMs;
    this.toUpstream = new Outbox(this.upstream, latency, (high) => this.pressure(this.client, high));
    this.toClient = new Outbox(this.client, latency, (high) => this.pressure(this.upstream, high));
    this.requests = new HttpReader(REQUEST_LINE, '', {
      head: (head, raw) => this.onRequestHead(head, raw),
      body: (raw, n) => this.onRequestBody(raw, n),
      end: () => this.onRequestEnd(),
      raw: (raw) => {
        this.responses.goRaw();
        if (!this.holding) this.toUpstream.write(raw);
      },
    });
    this.responses = new HttpReader(STATUS_LINE, 'HTTP/', {
      head: (head, raw) => this.onResponseHead(head, raw),
      body: (raw) => this.toClient.write(raw, this.exchanges[0]?.holdUntil),
      end: () => this.onResponseEnd(),
      raw: (raw) => {
        this.requests.goRaw();
        this.toClient.write(raw);
      },
    });
    this.closed = Promise.all([closedPromise(client), closedPromise(this.upstream)]).then(() => {
      this.dispose();
      proxy.forget(this);
    });

    client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.requests.feed(chunk));
    client.on('end', () => this.onClientEnd());
    client.on('error', () => this.onClientError());
    client.on('close', () => this.onClientClose());
    this.upstream.on('data', (chunk: Buffer) => this.responses.feed(chunk));
    this.upstream.on('end', () => this.onUpstreamEnd());
    this.upstream.on('error', () => this.onUpstreamError());
  }

  /** Resets the client connection (TCP RST) and drops the upstream one; false if it was gone. */
  reset(): boolean {
    if (this.dead) return false;
    this.dead = true;
    this.dispose();
    this.upstream.destroy();
    if (this.client.destroyed) return false;
    this.proxy.countReset();
    this.client.resetAndDestroy();
    return true;
  }

  /** Destroys both sockets; resolves once both are closed. */
  destroy(): Promise<void> {
    this.dead = true;
    this.dispose();
    this.client.destroy();
    this.upstream.destroy();
    return this.closed;
  }

  private dispose(): void {
    this.requests.stop();
    this.responses.stop();
    this.toUpstream.dispose();
    this.toClient.dispose();
  }

  private pressure(source: Socket, high: boolean): void {
    if (source.destroyed) return;
    if (high) source.pause();
    else source.resume();
  }

  private onRequestHead(head: Head, raw: Buffer): Framing {
    const [method, path] = head.startLine.split(' ');
    const record: ProxiedRequest = {
      method,
      path,
      headers: head.headers,
      bodyBytes: 0,
      at: Date.now(),
      connectionId: this.id,
      forwarded: true,
    };
    const fault = this.proxy.pick(record);
    if (fault) record.fault = fault.kind;
    record.forwarded = fault?.kind !== 'blackhole' && fault?.kind !== 'reset-before-forward';
    this.proxy.requests.push(record);
    const exchange: Exchange = { record, fault, answered: false, holdUntil: 0 };
    this.reading = exchange;
    if (fault?.kind === 'blackhole') this.holding = true;
    if (record.forwarded) {
      this.exchanges.push(exchange);
      this.toUpstream.write(raw);
    }
    return requestFraming(head.headers);
  }

  private onRequestBody(raw: Buffer, payloadBytes: number): void {
    const exchange = this.reading;
    if (!exchange) return;
    exchange.record.bodyBytes += payloadBytes;
    if (exchange.record.forwarded) this.toUpstream.write(raw);
  }

  private onRequestEnd(): void {
    const exchange = this.reading;
    this.reading = undefined;
    if (exchange?.fault?.kind === 'reset-before-forward') this.reset();
    // A blackholed connection forwards nothing more: the client waits for an answer that never comes.
    else if (exchange?.fault?.kind === 'blackhole') this.requests.stop();
  }

  private onResponseHead(head: Head, raw: Buffer): Framing {
    const status = Number(head.startLine.slice(9, 12));
    const exchange = this.exchanges[0];
    if (exchange && !exchange.answered) {
      exchange.answered = true;
      const fault = exchange.fault;
      if (fault?.kind === 'reset-after-request') {
        exchange.record.status = status;
        this.reset();
        return { kind: 'none' };
      }
      if (fault?.kind === 'blackhole-after-forward') {
        exchange.record.status = status;
        this.holding = true;
        this.responses.stop();
        return { kind: 'none' };
      }
      if (fault?.kind === 'latency') exchange.holdUntil = performance.now() + fault.ms;
    }
    // 1xx answers (100 Continue...) come before the final one of the same exchange.
    this.answerIsFinal = status < 100 || status >= 200 || status === 101;
    if (exchange && this.answerIsFinal) exchange.record.status = status;
    this.toClient.write(raw, exchange?.holdUntil);
    if (status === 101 || (exchange?.record.method === 'CONNECT' && status >= 200 && status < 300)) {
      // A tunnel: from here on both directions are raw bytes (the response reader goes raw itself).
      this.requests.goRaw();
      return { kind: 'tunnel' };
    }
    if (status < 200 || status === 204 || status === 304 || exchange?.record.method === 'HEAD') return { kind: 'none' };
    return responseFraming(head.headers);
  }

  private onResponseEnd(): void {
    if (this.answerIsFinal) this.exchanges.shift();
  }

  private onClientEnd(): void {
    // The client will send no more: pass its FIN on once what it sent is out, or close a held connection.
    if (this.holding) {
      this.client.end();
      this.upstream.destroy();
      return;
    }
    this.toUpstream.then(() => this.upstream.end());
  }

  private onClientError(): void {
    // ECONNRESET, EPIPE...: the client is gone.
    this.upstream.destroy();
  }

  private onClientClose(): void {
    this.toClient.dispose();
    if (this.upstream.destroyed) return;
    if (this.toUpstream.idle) this.upstream.destroy();
    else this.toUpstream.then(() => this.upstream.destroy());
  }

  private onUpstreamEnd(): void {
    this.responses.senderEnded();
    if (this.holding || this.dead) return;
    this.toClient.then(() => this.client.end());
  }

  private onUpstreamError(): void {
    // Refused, reset, or broken pipe: the client gets a reset, like from a peer that died.
    if (this.holding || this.dead) return;
    this.reset();
  }
}

function requestFraming(headers: Record<string, string>): Framing {
  if (isChunked(headers)) return { kind: 'chunked' };
  const length = contentLength(headers);
  return length === undefined ? { kind: 'none' } : { kind: 'length', bytes: length };
}

function responseFraming(headers: Record<string, string>): Framing {
  if (isChunked(headers)) return { kind: 'chunked' };
  const length = contentLength(headers);
  return length === undefined ? { kind: 'until-close' } : { kind: 'length', bytes: length };
}

function isChunked(headers: Record<string, string>): boolean {
  const codings = headers['transfer-encoding'];
  return codings !== undefined && codings.split(',').pop()?.trim().toLowerCase() === 'chunked';
}

function contentLength(headers: Record<string, string>): number | undefined {
  const value = headers['content-length'];
  if (value === undefined) return undefined;
  const n = Number(value.split(',')[0].trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function closedPromise(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}
