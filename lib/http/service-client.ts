import axios, { AxiosError, AxiosRequestConfig } from 'axios';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { isBrokenCircuitError } from '../errors/broken-circuit.error';
import { HttpClientError } from '../errors/http-client.error';
import { relativePathProblem } from './path';
import { redactUrl } from './redact';
import { CallContext, Transport } from './transport';

export type QueryValue = string | number | boolean | Date | null | undefined;

/** Per-call options of `ServiceClient`. */
export interface RequestOptions {
  /** Query parameters; arrays become repeated keys (`a=1&a=2`), `null`/`undefined` are left out. */
  params?: Record<string, QueryValue | QueryValue[]>;
  /** Extra headers (values must not contain CR, LF or NUL). */
  headers?: Record<string, string>;
  /** Timeout of each attempt, overriding the service's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries after the first attempt, overriding the service's `retries`. */
  retries?: number;
  /** Aborts the call (including pending retries). */
  signal?: AbortSignal;
  /**
   * Declares a POST or PATCH safe to repeat, so it is retried on timeouts and 429/502/503/504 like
   * a GET. Implied by an `Idempotency-Key` header.
   */
  idempotent?: boolean;
  /** Route template for events and metrics (e.g. `/tenants/:tenant/items/:code`); defaults to the path. */
  route?: string;
}

export interface RequestConfig extends RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  path: string;
  /** JSON-serialised unless it is a Buffer / Uint8Array. */
  body?: unknown;
}

export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Record<string, string>;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;
/** Characters Node's `http` writes in a header value (anything else throws inside `http.request`). */
const NOT_A_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * The pooled client of one peer service, shared by every caller (get it from
 * `HttpClientHelper.getServiceClient(name)`). Every method resolves to the parsed body, or
 * rejects with `HttpClientError`. Paths are relative to the service's base URL; build those that
 * contain data with `pathOf` so each value stays one segment.
 */
export class ServiceClient {
  constructor(
    /** The service name this client calls. */
    readonly name: string,
    /** The base URL it resolved to. */
    readonly baseUrl: string,
    private readonly transport: Transport,
    /** The breaker guarding this service, when one is configured. */
    readonly breaker?: CircuitBreaker,
  ) {}

  async get<T = unknown>(path: string, options?: RequestOptions): Promise<T> {
    return (await this.send<T>({ ...options, method: 'GET', path }, false)).data;
  }

  async delete<T = unknown>(path: string, options?: RequestOptions): Promise<T> {
    return (await this.send<T>({ ...options, method: 'DELETE', path }, false)).data;
  }

  async post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return (await this.send<T>({ ...options, method: 'POST', path, body }, false)).data;
  }

  async put<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return (await this.send<T>({ ...options, method: 'PUT', path, body }, false)).data;
  }

  async patch<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return (await this.send<T>({ ...options, method: 'PATCH', path, body }, false)).data;
  }

  /** Any method; resolves to `{ data, status, headers }`. */
  request<T = unknown>(config: RequestConfig): Promise<HttpResponse<T>> {
    return this.send<T>(config, true);
  }

  private async send<T>(req: RequestConfig, withHeaders: boolean): Promise<HttpResponse<T>> {
    const method = typeof req.method === 'string' ? (req.method.toUpperCase() as RequestConfig['method']) : req.method;
    if (!METHODS.has(method)) {
      throw this.inputError(
        String(method),
        '-',
      )(`method must be one of ${[...METHODS].join(', ')}, got ${JSON.stringify(String(method).slice(0, 20))}`);
    }
    req = method === req.method ? req : { ...req, method };
    const url = this.buildUrl(req);
    const headers = this.checkHeaders(req, url);
    const data = this.serialise(req, url, headers);
    const idempotent =
      IDEMPOTENT.has(method) ||
      req.idempotent === true ||
      Object.keys(headers).some((h) => h.toLowerCase() === 'idempotency-key');
    const config: AxiosRequestConfig = {
      method,
      url,
      headers,
      data,
      signal: req.signal,
      kugel: new CallContext(req.route ?? url.split('?', 1)[0], idempotent, this.breaker),
    };
    if (req.timeoutMs !== undefined)
      config.timeout = checkCount('timeoutMs', req.timeoutMs, 1, this.inputError(method, url), MAX_TIMER_MS);
    if (req.retries !== undefined)
      config['axios-retry'] = { retries: checkCount('retries', req.retries, 0, this.inputError(method, url)) };
    try {
      const response = await this.transport.axios.request(config);
      return {
        data: response.data as T,
        status: response.status,
        headers: withHeaders ? plainHeaders(response.headers) : {},
      };
    } catch (error) {
      releaseUnsettled(config);
      throw this.toHttpClientError(error, method, url, config);
    }
  }

  private buildUrl(req: RequestConfig): string {
    const { path } = req;
    const fail = this.inputError(req.method, typeof path === 'string' ? path : '-');
    const problem = relativePathProblem(path);
    if (problem !== undefined) throw fail(problem);
    let url = path.startsWith('/') || path.length === 0 ? path : `/${path}`;
    if (req.params) {
      const query = buildQuery(req.params, fail);
      if (query) url += (url.includes('?') ? '&' : '?') + query;
    }
    return url;
  }

  private checkHeaders(req: RequestConfig, url: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (!req.headers) return out;
    const fail = this.inputError(req.method, url);
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (!HEADER_NAME.test(name))
        throw fail(`header name ${JSON.stringify(name.slice(0, 40))} is not a valid HTTP token`);
      if (typeof value !== 'string') throw fail(`header "${name}" must be a string, got ${typeof value}`);
      // The value is never quoted: it may be a credential.
      if (BAD_HEADER_VALUE.test(value)) throw fail(`header "${name}" contains CR, LF or NUL`);
      if (NOT_A_HEADER_VALUE.test(value)) throw fail(`header "${name}" contains characters HTTP cannot carry`);
      out[name] = value;
    }
    return out;
  }

  private serialise(req: RequestConfig, url: string, headers: Record<string, string>): string | Uint8Array | undefined {
    if (req.body === undefined) return undefined;
    if (req.body instanceof Uint8Array) return req.body;
    let json: string | undefined;
    try {
      json = JSON.stringify(req.body);
    } catch (error) {
      throw this.inputError(
        req.method,
        url,
      )(`body is not JSON-serialisable: ${(error as Error).message.split('\n')[0]}`);
    }
    if (json === undefined)
      throw this.inputError(req.method, url)(`body of type ${typeof req.body} is not JSON-serialisable`);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
    return json;
  }

  private inputError(method: string, url: string): (why: string) => HttpClientError {
    return (why) =>
      new HttpClientError(`${method} ${this.name} ${redactUrl(url)}: ${why} (nothing was sent)`, {
        service: this.name,
        method,
        url: redactUrl(`${this.baseUrl}${url}`),
        attempts: 0,
        code: 'ERR_BAD_REQUEST_INPUT',
      });
  }

  private toHttpClientError(error: unknown, method: string, url: string, config: AxiosRequestConfig): HttpClientError {
    const safeUrl = redactUrl(`${this.baseUrl}${url}`);
    const attempts = config.kugel?.attempts ?? 0;
    const label = `${method} ${this.name} ${redactUrl(url)}`;
    if (isBrokenCircuitError(error)) {
      return new HttpClientError(`${label}: circuit "${error.breaker}" is open (nothing was sent)`, {
        service: this.name,
        method,
        url: safeUrl,
        attempts: 0,
        code: error.code,
        cause: error,
      });
    }
    if (axios.isAxiosError(error)) {
      const e = error as AxiosError;
      const cause = plainCause(e);
      if (e.response) {
        const status = e.response.status;
        // A 2xx/3xx whose body could not be read (e.g. malformed JSON): say so, not "failed with HTTP 200".
        const what = status < 400 ? `got HTTP ${status} but ${e.message}` : `failed with HTTP ${status}`;
        return new HttpClientError(`${label} ${what} after ${attempts} attempt${attempts === 1 ? '' : 's'}`, {
          service: this.name,
          method,
          url: safeUrl,
          statusCode: status,
          response: e.response.data,
          attempts,
          code: e.code,
          cause,
        });
      }
      const code = e.code ?? 'ERR_NETWORK';
      const what = code === 'ERR_CANCELED' ? 'was aborted' : `failed: ${code} (${e.message})`;
      return new HttpClientError(`${label} ${what} after ${attempts} attempt${attempts === 1 ? '' : 's'}`, {
        service: this.name,
        method,
        url: safeUrl,
        attempts,
        code,
        cause,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new HttpClientError(`${label} failed: ${message}`, {
      service: this.name,
      method,
      url: safeUrl,
      attempts,
      code: (error as { code?: string })?.code,
      cause: error instanceof Error ? plainCause(error) : undefined,
    });
  }
}

/**
 * Last line of defence for the breaker: an error that bypassed the recorder (thrown without an
 * axios config) must not keep a half-open trial slot forever. A permit ignores a second outcome.
 */
export function releaseUnsettled(config: AxiosRequestConfig): void {
  const ctx = config.kugel;
  if (ctx && !ctx.settled) {
    ctx.settled = true;
    ctx.permit?.release();
  }
}

function buildQuery(params: NonNullable<RequestOptions['params']>, fail: (why: string) => HttpClientError): string {
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(params)) {
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (value === undefined || value === null) continue;
      let text: string;
      if (value instanceof Date) text = value.toISOString();
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        text = String(value);
      else throw fail(`query parameter "${key}" has a ${typeof value} value; use strings, numbers, booleans or dates`);
      try {
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
      } catch {
        // A lone UTF-16 surrogate cannot be percent-encoded.
        throw fail(`query parameter "${key}" is not valid Unicode text`);
      }
    }
  }
  return parts.join('&');
}

/** The longest delay Node.js timers accept (2^31 − 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

function checkCount(
  name: string,
  value: unknown,
  min: number,
  fail: (why: string) => HttpClientError,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw fail(`option ${name} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}

/** A plain Error with the message and code only: the axios error's config holds the headers. */
function plainCause(error: Error & { code?: string }): Error {
  const cause = new Error(error.message) as Error & { code?: string };
  cause.name = error.name;
  if (error.code) cause.code = error.code;
  return cause;
}

function plainHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? (headers as { toJSON(): Record<string, unknown> }).toJSON()
      : (headers as Record<string, unknown>);
  for (const [k, v] of Object.entries(source)) {
    if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
