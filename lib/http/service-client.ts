import { AxiosRequestConfig } from 'axios';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { redactUrl } from '../common/redact';
import { withoutStack } from '../common/without-stack';
import { BrokenCircuitError } from '../errors/broken-circuit.error';
import { HttpClientError } from '../errors/http-client.error';
import { serialiseJson } from '../input/body';
import { checkHeaders, flatHeaders, hasHeader } from '../input/headers';
import { applyIdempotencyKey } from '../input/idempotency-key';
import { InputError, isInputError } from '../input/input.error';
import { checkRelativePath } from '../input/path';
import { buildQuery, withQuery } from '../input/query';
import { MAX_TIMER_MS } from '../options/validators';
import { CallFailure, CallSuccess } from '../transport/call-result';
import { CallSpec } from '../transport/call-state';
import { CallRunner } from '../transport/call-runner';
import { HttpResponse, RequestConfig, RequestOptions } from './request-options.interface';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
/** Methods whose repeat has the effect of one call (RFC 9110 §9.2.2); POST and PATCH only when the call says so. */
const REPEATABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * What one call came to, for the `HttpService` facade: the runner's success, or its failure with
 * the `HttpClientError` every `ServiceClient` method would reject with.
 * @internal
 */
export type Exchange = { ok: true; result: CallSuccess } | { ok: false; result: CallFailure; error: HttpClientError };

/**
 * The pooled client of one peer service, shared by every caller (get it from
 * `HttpClientHelper.getServiceClient(name)`). Every method resolves to the parsed body, or
 * rejects with `HttpClientError`. Paths are relative to the service's base URL; build those that
 * contain data with `pathOf` so each value stays one segment.
 */
export class ServiceClient {
  /** @internal Made by `HttpClientHelper.getServiceClient`. */
  constructor(
    /** The service name this client calls. */
    readonly name: string,
    /** The base URL it resolved to. */
    readonly baseUrl: string,
    private readonly runner: CallRunner,
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

  /**
   * One call, checked and run, for the `HttpService` facade (`http-service.factory.ts`). Bad input
   * throws `HttpClientError` (`ERR_BAD_REQUEST_INPUT`, nothing sent); a failed call resolves.
   * `bodyOnly`: the caller reads the body only, not the answer's headers (`CallSpec.bodyOnly`).
   * @internal
   */
  async exchange(req: RequestConfig, bodyOnly = false): Promise<Exchange> {
    const { config, spec } = this.build(req, bodyOnly);
    const result = await this.runner.run(config, spec);
    return result.ok
      ? { ok: true, result }
      : { ok: false, result, error: this.toError(result, config.method!, config.url!) };
  }

  private async send<T>(req: RequestConfig, withHeaders: boolean): Promise<HttpResponse<T>> {
    const outcome = await this.exchange(req, !withHeaders);
    if (!outcome.ok) throw outcome.error;
    const result = outcome.result;
    return {
      data: result.data as T,
      status: result.status,
      headers: withHeaders ? flatHeaders(result.headers, true) : {},
    };
  }

  /** The caller's request, checked, as the runner's axios config; bad input → `HttpClientError`, nothing sent. */
  private build(req: RequestConfig, bodyOnly: boolean): { config: AxiosRequestConfig; spec: CallSpec } {
    const method = typeof req.method === 'string' ? req.method.toUpperCase() : String(req.method);
    let where = typeof req.path === 'string' ? req.path : '-';
    try {
      if (!METHODS.has(method)) {
        where = '-';
        throw new InputError(
          `method must be one of ${[...METHODS].join(', ')}, got ${JSON.stringify(method.slice(0, 20))}`,
        );
      }
      const url = withQuery(checkRelativePath(req.path), buildQuery(req.params));
      where = url;
      const headers = checkHeaders(req.headers);
      const keyed = applyIdempotencyKey(req.idempotencyKey, headers);
      let data: string | Uint8Array | undefined;
      if (req.body instanceof Uint8Array) data = req.body;
      else if (req.body !== undefined) {
        data = serialiseJson(req.body, 'body');
        if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
      }
      // Only the keys a call sets: axios merges and checks every key of the config on every request.
      const config: AxiosRequestConfig = { method, url, headers };
      if (data !== undefined) config.data = data;
      if (req.signal !== undefined) config.signal = req.signal;
      if (req.timeoutMs !== undefined) config.timeout = checkCount('timeoutMs', req.timeoutMs, 1, MAX_TIMER_MS);
      if (req.retries !== undefined) config['axios-retry'] = { retries: checkCount('retries', req.retries, 0) };
      const repeatable = REPEATABLE.has(method) || req.idempotent === true || keyed;
      const route = req.route ?? url.split('?', 1)[0];
      return { config, spec: { route, repeatable, breaker: this.breaker, bodyOnly } };
    } catch (error) {
      if (!isInputError(error)) throw error;
      throw this.badInput(method, where, error.message);
    }
  }

  /**
   * The error of a request refused before anything was sent (`ERR_BAD_REQUEST_INPUT`), for this
   * client's checks and the `HttpService` facade's.
   * @internal
   */
  badInput(method: string, path: string, why: string): HttpClientError {
    return new HttpClientError(`${method} ${this.name} ${redactUrl(path)}: ${why} (nothing was sent)`, {
      service: this.name,
      method,
      url: redactUrl(`${this.baseUrl}${path}`),
      attempts: 0,
      code: 'ERR_BAD_REQUEST_INPUT',
    });
  }

  private toError(failure: CallFailure, method: string, url: string): HttpClientError {
    const label = `${method} ${this.name} ${redactUrl(url)}`;
    const n = failure.attempts;
    const after = `after ${n} attempt${n === 1 ? '' : 's'}`;
    const init = {
      service: this.name,
      method,
      url: redactUrl(`${this.baseUrl}${url}`),
      attempts: n,
      code: failure.code,
    };
    if (failure.kind === 'circuit-open') {
      const cause = withoutStack(() => new BrokenCircuitError(this.breaker?.name ?? '-', this.breaker?.retryAt));
      return new HttpClientError(`${label}: ${failure.message} (nothing was sent)`, { ...init, cause });
    }
    // A plain Error with the message and code only: never anything that holds the request headers.
    const cause = Object.assign(new Error(failure.message), { code: failure.code });
    if (failure.status !== undefined) {
      const status = failure.status;
      // A 2xx/3xx whose body could not be read (e.g. malformed JSON): say so, not "failed with HTTP 200".
      const what = status < 400 ? `got HTTP ${status} but ${failure.message}` : `failed with HTTP ${status}`;
      return new HttpClientError(`${label} ${what} ${after}`, {
        ...init,
        statusCode: status,
        response: failure.response,
        cause,
      });
    }
    const what =
      failure.kind === 'cancelled'
        ? 'was aborted'
        : failure.kind === 'internal'
          ? `failed: ${failure.message}`
          : `failed: ${failure.code} (${failure.message})`;
    return new HttpClientError(`${label} ${what} ${after}`, { ...init, cause });
  }
}

function checkCount(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new InputError(`option ${name} must be an integer ${range}, got ${String(value)}`);
  }
  return value;
}
