import { AxiosAdapter } from 'axios';
import { InMemoryAnswer, inMemoryAdapter, InMemoryFault, InMemoryRequest } from './in-memory.adapter';

/** What a stub answers: an HTTP answer (200 with no body by default), or a network failure. */
export interface StubReply {
  /** @default 200 */
  status?: number;
  /**
   * The answer's body: JSON (`application/json`) unless it is a string (`text/plain`) or a Buffer
   * (`application/octet-stream`); a `Content-Type` in `headers` wins.
   */
  body?: unknown;
  headers?: Record<string, string>;
  /** Instead of an answer: the connection is refused or reset, or the attempt times out (at once). */
  fault?: InMemoryFault;
}

/** A call a stub received (also recorded when no stub matched). */
export interface StubRequest {
  service: string;
  /** Upper case. */
  method: string;
  /** The path as sent (percent-encoded), without the query. */
  path: string;
  /** The route's `:name` segments, decoded. */
  params: Record<string, string>;
  /** Query parameters, decoded; a repeated name gives an array. */
  query: Record<string, string | string[]>;
  /** Names in lower case. */
  headers: Record<string, string>;
  /** The parsed JSON body (text when it is not JSON), `undefined` without one. */
  body: unknown;
}

/** One stubbed route of a peer service. */
export interface PeerStub {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  /**
   * Path relative to the service's base URL; `:name` matches one segment (decoded into
   * `params.name`), e.g. `/tenants/:tenant/items/:code`. A query is not part of the match.
   */
  path: string;
  /** The answer, or a function of the request (it may be async; what it throws fails the call). */
  reply: StubReply | ((request: StubRequest) => StubReply | Promise<StubReply>);
  /** Answer this many calls, then step aside for the next matching stub. @default unlimited */
  times?: number;
}

interface Route {
  stub: PeerStub;
  segments: string[];
  left: number;
}

/**
 * The stubbed peers of a testing module, by service name: each service's REST client sends its
 * attempts here (`inMemoryAdapter`) instead of to the network. The first matching route answers
 * (routes added with `stub()` come before those given at boot); a call no route matches fails
 * with code `ERR_NO_STUB` naming the call and the service's routes. Every call is recorded.
 */
export class PeerStubs {
  private readonly initial: Map<string, PeerStub[]>;
  private readonly routes = new Map<string, Route[]>();
  private readonly recorded = new Map<string, StubRequest[]>();

  constructor(stubs: Record<string, PeerStub[]> = {}) {
    this.initial = new Map(Object.entries(stubs).map(([service, list]) => [service, checkStubs(service, list)]));
    this.reset();
  }

  /** Whether the service has stubs (so that it is found without a base URL in the options). */
  has(service: string): boolean {
    return this.routes.has(service);
  }

  /** Adds routes before the existing ones of `service`. */
  add(service: string, stubs: PeerStub[]): void {
    const routes = checkStubs(service, stubs).map(route);
    this.routes.set(service, [...routes, ...(this.routes.get(service) ?? [])]);
  }

  /** The calls `service` received, in order. */
  calls(service: string): StubRequest[] {
    return [...(this.recorded.get(service) ?? [])];
  }

  /** Back to the stubs given at boot; the recorded calls are forgotten. */
  reset(): void {
    this.routes.clear();
    this.recorded.clear();
    for (const [service, stubs] of this.initial) this.routes.set(service, stubs.map(route));
  }

  adapterFor(service: string): AxiosAdapter {
    return inMemoryAdapter((request) => this.answer(service, request));
  }

  private async answer(service: string, request: InMemoryRequest): Promise<InMemoryAnswer> {
    const stubRequest: StubRequest = {
      service,
      method: request.method,
      path: request.path,
      params: {},
      query: queryOf(request.query),
      headers: request.headers,
      body: parsed(request.body),
    };
    const list = this.recorded.get(service) ?? [];
    list.push(stubRequest);
    this.recorded.set(service, list);
    const routes = this.routes.get(service) ?? [];
    const hit = routes.find(
      (r) => r.left > 0 && r.stub.method === request.method && match(r, request.path, stubRequest),
    );
    if (!hit) throw noStub(service, request, routes);
    hit.left -= 1;
    const reply = typeof hit.stub.reply === 'function' ? await hit.stub.reply(stubRequest) : hit.stub.reply;
    return toAnswer(service, reply);
  }
}

function route(stub: PeerStub): Route {
  return { stub, segments: stub.path.split('?')[0].split('/'), left: stub.times ?? Infinity };
}

/** Whether `path` matches the route; fills `request.params` when it does. */
function match(r: Route, path: string, request: StubRequest): boolean {
  const segments = path.split('/');
  if (segments.length !== r.segments.length) return false;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i += 1) {
    const want = r.segments[i];
    let got: string;
    try {
      got = decodeURIComponent(segments[i]);
    } catch {
      return false;
    }
    if (want.startsWith(':') && want.length > 1) {
      if (got.length === 0) return false;
      params[want.slice(1)] = got;
    } else if (want !== got) return false;
  }
  request.params = params;
  return true;
}

function toAnswer(service: string, reply: StubReply | undefined): InMemoryAnswer {
  if (reply === null || typeof reply !== 'object') {
    throw new TypeError(
      `a stub of "${service}" replied ${String(reply)}; a reply is { status?, body?, headers?, fault? }`,
    );
  }
  if (reply.fault) return { fault: reply.fault };
  const headers: Record<string, string> = { ...reply.headers };
  const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  let body: string | undefined;
  if (reply.body === undefined) body = undefined;
  else if (typeof reply.body === 'string') {
    body = reply.body;
    if (!hasType) headers['content-type'] = 'text/plain; charset=utf-8';
  } else if (Buffer.isBuffer(reply.body)) {
    body = reply.body.toString('utf8');
    if (!hasType) headers['content-type'] = 'application/octet-stream';
  } else {
    body = JSON.stringify(reply.body);
    if (!hasType) headers['content-type'] = 'application/json';
  }
  return { status: reply.status ?? 200, headers, body };
}

function checkStubs(service: string, stubs: PeerStub[]): PeerStub[] {
  if (!Array.isArray(stubs)) throw new TypeError(`stubs of "${service}" must be an array of { method, path, reply }`);
  for (const stub of stubs) {
    const where = `stub ${JSON.stringify(stub?.method)} ${JSON.stringify(stub?.path)} of "${service}"`;
    if (!stub || typeof stub.path !== 'string' || !stub.path.startsWith('/')) {
      throw new TypeError(`${where}: path must be a string starting with "/"`);
    }
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].includes(stub.method)) {
      throw new TypeError(`${where}: method must be GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS`);
    }
    if (stub.reply === undefined || stub.reply === null) throw new TypeError(`${where}: reply is missing`);
    if (stub.times !== undefined && (!Number.isSafeInteger(stub.times) || stub.times < 1)) {
      throw new TypeError(`${where}: times must be a positive integer`);
    }
  }
  return stubs;
}

/** The loud failure of an unstubbed call: the call, and the routes the service has. */
function noStub(service: string, request: InMemoryRequest, routes: Route[]): Error {
  const known = routes.filter((r) => r.left > 0).map((r) => `${r.stub.method} ${r.stub.path}`);
  const used = routes.filter((r) => r.left <= 0).map((r) => `${r.stub.method} ${r.stub.path}`);
  const message =
    `no stub for ${request.method} ${request.path} of "${service}"` +
    (known.length ? ` (stubbed: ${known.join(', ')})` : ' (the service has no stubs)') +
    (used.length ? ` (used up: ${used.join(', ')})` : '');
  return Object.assign(new Error(message), { code: 'ERR_NO_STUB' });
}

function queryOf(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of new Set(query.keys())) {
    const all = query.getAll(name);
    out[name] = all.length === 1 ? all[0] : all;
  }
  return out;
}

function parsed(body: string | undefined): unknown {
  if (body === undefined || body.length === 0) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}
