import {
  AxiosAdapter,
  AxiosError,
  AxiosHeaders,
  AxiosRequestConfig,
  AxiosResponse,
  CanceledError,
  InternalAxiosRequestConfig,
} from 'axios';
import { isSecretName, redactUrl } from '../common/redact';
import { HttpClientError, isHttpClientError } from '../errors/http-client.error';
import { flatHeaders, hasHeader, headerOf } from '../input/headers';
import { QueryParams, withQuery } from '../input/query';
import { RequestConfig } from './request-options.interface';
import { Exchange, ServiceClient } from './service-client';

type Method = RequestConfig['method'];

/** Response types the runner can give: the body read whole, JSON parsed under a JSON content type. */
const RESPONSE_TYPES = new Set([undefined, 'json', 'text']);

/**
 * The adapter of an `HttpService`'s axios instance: it hands each request to the service's
 * `ServiceClient` (the same checks, call runner, agent, axios-retry, budget, breaker, events and
 * metrics as `client.get()`), and turns what the call came to back into what axios gives:
 *
 * - a response (`data` parsed as `ServiceClient` parses it) when the status passes the request's
 *   `validateStatus` (2xx by default; a caller may accept e.g. a 404);
 * - otherwise an `AxiosError` with axios' code, the response when the peer answered, and as its
 *   `cause` the `HttpClientError` a `ServiceClient` would throw; `config` is a copy without
 *   credentials (`safeConfig`), `request` is unset.
 *
 * Retries and the breaker judge every answer the way they do for `ServiceClient`, whatever
 * `validateStatus` says.
 */
export function serviceClientAdapter(client: ServiceClient): AxiosAdapter {
  return async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const method = String(config.method ?? 'get').toUpperCase() as Method;
    const path = (config.baseURL ?? '') + (config.url ?? '');
    const request = toRequest(client, config, method, path);
    const cancel = cancellation(config);
    let outcome: Exchange;
    try {
      outcome = await client.exchange({ ...request, signal: cancel.signal });
    } catch (error) {
      throw isHttpClientError(error) ? toAxiosError(error, config) : error;
    } finally {
      cancel.done();
    }
    if (outcome.ok) {
      const { status, data, headers } = outcome.result;
      const response = toResponse(config, status, data, headers);
      if (!config.validateStatus || config.validateStatus(status)) return response;
      const code = status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
      throw new AxiosError(`Request failed with status code ${status}`, code, safeConfig(config), undefined, {
        ...response,
        config: safeConfig(config),
      });
    }
    const { result, error } = outcome;
    if (result.status !== undefined && config.validateStatus?.(result.status)) {
      return toResponse(config, result.status, result.response, result.headers ?? {});
    }
    throw toAxiosError(error, config, result.status, result.response, result.headers);
  };
}

/**
 * The axios config as a `ServiceClient` request. What a `ServiceClient` cannot send is refused,
 * nothing sent, with the `AxiosError` of any bad input (`ERR_BAD_REQUEST_INPUT`, the client's
 * `HttpClientError` as `cause`): multipart and stream bodies, a response type other than JSON or text. A `baseURL` is joined to the URL, so an absolute one is
 * refused by the client's path check like an absolute URL.
 */
function toRequest(client: ServiceClient, config: InternalAxiosRequestConfig, method: Method, path: string) {
  const refuse = (why: string) => toAxiosError(client.badInput(method, path, why), config);
  if (!RESPONSE_TYPES.has(config.responseType)) {
    throw refuse(`responseType "${config.responseType}" is not supported (answers are read whole, as JSON or text)`);
  }
  const headers = flatHeaders(config.headers);
  if (config.auth && !hasHeader(headers, 'authorization')) {
    const { username, password } = config.auth;
    headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  const req: RequestConfig = { method, path, headers };
  const params: unknown = config.params;
  if (params instanceof URLSearchParams) req.path = withQuery(path, params.toString());
  else if (params !== undefined && params !== null) req.params = params as QueryParams;
  const data: unknown = config.data;
  if (data === undefined || data === null) {
    // no body
  } else if (typeof data === 'string') req.body = Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) req.body = data;
  else if (data instanceof ArrayBuffer) req.body = new Uint8Array(data);
  else if (data instanceof URLSearchParams) {
    req.body = Buffer.from(data.toString(), 'utf8');
    if (!hasHeader(headers, 'content-type'))
      headers['Content-Type'] = 'application/x-www-form-urlencoded;charset=utf-8';
  } else if (isPlainData(data)) {
    const contentType = headerOf(headers, 'content-type') ?? '';
    if (/multipart\/form-data/i.test(contentType)) {
      throw refuse('multipart/form-data bodies are not supported (postForm, FormData)');
    }
    // As axios does: an object under a form content type is sent as a form, else as JSON.
    req.body = /application\/x-www-form-urlencoded/i.test(contentType) ? formOf(data, refuse) : data;
  } else {
    const kind = (data as object).constructor?.name ?? typeof data;
    throw refuse(`a ${kind} body is not supported (send JSON, a string, a Buffer or URLSearchParams)`);
  }
  if (config.timeout) req.timeoutMs = config.timeout;
  const retries = (config['axios-retry'] as { retries?: unknown } | undefined)?.retries;
  if (typeof retries === 'number') req.retries = retries;
  return req;
}

/** The request's `signal` and its `cancelToken` (what `HttpService` cancels on unsubscribe) as one signal. */
function cancellation(config: InternalAxiosRequestConfig): { signal?: AbortSignal; done(): void } {
  const signal = config.signal as AbortSignal | undefined;
  const token = config.cancelToken;
  if (!token) return { signal, done: () => undefined };
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  if (token.reason) controller.abort();
  else token.subscribe(onCancel);
  return {
    signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    done: () => token.unsubscribe(onCancel),
  };
}

/** The error a `HttpService` user gets: an `AxiosError` (a `CanceledError` when cancelled) with the `HttpClientError` as `cause`. */
function toAxiosError(
  error: HttpClientError,
  config: AxiosRequestConfig,
  status?: number,
  data?: unknown,
  headers?: Record<string, unknown>,
): AxiosError {
  const safe = safeConfig(config);
  const axiosError =
    error.code === AxiosError.ERR_CANCELED
      ? new CanceledError(error.message, safe)
      : new AxiosError(
          error.message,
          error.code,
          safe,
          undefined,
          status === undefined ? undefined : toResponse(safe, status, data, headers ?? {}),
        );
  axiosError.cause = error;
  return axiosError;
}

function toResponse(
  config: AxiosRequestConfig,
  status: number,
  data: unknown,
  headers: Record<string, unknown>,
): AxiosResponse {
  return {
    data,
    status,
    statusText: '',
    headers: new AxiosHeaders(headers as Record<string, string>),
    config: config as InternalAxiosRequestConfig,
  };
}

/**
 * A copy of a request config for errors: method, URL and query with secret-named values as `***`
 * (`redactUrl`, `isSecretName`), headers with the values of secret-named headers (`Authorization`,
 * `X-API-KEY`, `Cookie`, `dapr-api-token`, ...) as `***`, the timeout. No body, no `auth`, and none
 * of the live config's functions or signals: what a logged or serialised `AxiosError` can show.
 */
export function safeConfig(config: AxiosRequestConfig): InternalAxiosRequestConfig {
  const headers = new AxiosHeaders();
  for (const [name, value] of Object.entries(flatHeaders(config.headers))) {
    headers.set(name, isSecretName(name) ? '***' : value);
  }
  const safe: AxiosRequestConfig = { method: config.method, url: redactUrl(config.url ?? ''), headers };
  if (config.baseURL) safe.baseURL = redactUrl(config.baseURL);
  if (config.params && typeof config.params === 'object' && !(config.params instanceof URLSearchParams)) {
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config.params as Record<string, unknown>))
      params[k] = isSecretName(k) ? '***' : v;
    safe.params = params;
  }
  if (config.timeout) safe.timeout = config.timeout;
  return safe as InternalAxiosRequestConfig;
}

/** A flat object as an `application/x-www-form-urlencoded` body (nested values are refused). */
function formOf(data: unknown, refuse: (why: string) => Error): Uint8Array {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const v of values) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'object') throw refuse(`form field "${name}" is an object; send nested data as JSON`);
      form.append(name, String(v));
    }
  }
  return Buffer.from(form.toString(), 'utf8');
}

/** JSON-able data as axios' own transform sees it: a plain object or array, a number or a boolean. */
export function isPlainData(data: unknown): boolean {
  if (typeof data !== 'object') return typeof data === 'number' || typeof data === 'boolean';
  const proto = Object.getPrototypeOf(data) as unknown;
  return Array.isArray(data) || proto === Object.prototype || proto === null;
}
