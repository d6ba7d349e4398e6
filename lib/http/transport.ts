import { Logger } from '@nestjs/common';
import axios, { AxiosError, AxiosInstance, AxiosRequestConfig, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import axiosRetry from 'axios-retry';
import * as http from 'node:http';
import * as https from 'node:https';
import { performance } from 'node:perf_hooks';
import { CircuitBreaker, CircuitPermit } from '../circuit-breaker/circuit-breaker';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { BrokenCircuitError, isBrokenCircuitError } from '../errors/broken-circuit.error';
import { KugelCommsEvents } from '../observability/comms-events';
import { activeTraceHeaders } from '../observability/trace-context';
import { createNodeHttpAdapter } from './node-http.adapter';
import { redactUrl } from './redact';
import { RetryBudget } from './retry-budget';

/** HTTP statuses worth another attempt (the peer or a proxy says "try again"). */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/** Errors that prove the request never reached the server: safe to retry for any method. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Transport errors after which an idempotent request may be retried. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * State of one logical call, shared by every attempt of it. A class instance (not a plain object)
 * so that axios passes it by reference when axios-retry re-sends the config.
 */
export class CallContext {
  attempts = 0;
  permit?: CircuitPermit;
  settled = false;
  nextDelayMs = 0;
  readonly startedAt = performance.now();

  constructor(
    readonly route: string,
    readonly idempotent: boolean,
    readonly breaker?: CircuitBreaker,
  ) {}
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /** kugel-comms call state; set by `ServiceClient` and `DaprClientHelper`. */
    kugel?: CallContext;
  }
}

export interface TransportOptions {
  /** Service name (or `dapr`): used in logs, events and errors. */
  client: string;
  baseUrl: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  maxSockets: number;
  idleSocketTimeoutMs: number;
  maxContentLength: number;
  maxBodyLength: number;
  insecureSkipTlsVerify: boolean;
  budget?: RetryBudget;
  /** Headers sent on every call (e.g. `dapr-api-token`); never logged. */
  headers?: Record<string, string>;
  /** Retry timeouts of non-idempotent calls too (the sidecar's publish and save are idempotent by key/event id). */
  retryNonIdempotentTimeouts?: boolean;
  /** Response parser: `json` parses only JSON content types; `lenient` tries JSON on any text. */
  parse: 'json' | 'lenient';
  /**
   * Log each failed call here (`true`, the default). The sidecar client turns it off: its helper
   * logs every failure once itself, with the operation, component and key.
   */
  logFailures?: boolean;
  /**
   * A 5xx answer that is the caller's own doing, not a sick peer: it settles the breaker permit as
   * a success (the sidecar answers an ETag conflict inside a state transaction with a 500).
   */
  isCallerError?: (status: number, body: unknown) => boolean;
  /** Response headers the callers read (all when unset); see `NodeHttpAdapterOptions.responseHeaders`. */
  responseHeaders?: readonly string[];
  /** Add the active OpenTelemetry context's `traceparent`/`tracestate` (option `tracing.propagate`). */
  propagateTrace?: boolean;
  events: KugelCommsEvents;
  logger: Logger;
}

export interface Transport {
  axios: AxiosInstance;
  agent: http.Agent;
  destroy(): void;
}

/**
 * Builds the axios instance behind a `ServiceClient` or the `DaprClientHelper`: one keep-alive
 * agent (bounded by `maxSockets`, idle sockets retired before the server's keep-alive timeout),
 * axios-retry with the product's retry condition, backoff and budget, and the breaker gate and
 * recorder as interceptors. No redirect is followed, no absolute URL is accepted, no proxy is
 * taken from the environment: credentials go to the configured host and nowhere else.
 */
export function createTransport(o: TransportOptions): Transport {
  const isHttps = o.baseUrl.startsWith('https:');
  const agentOptions: https.AgentOptions = {
    keepAlive: true,
    maxSockets: o.maxSockets,
    maxFreeSockets: o.maxSockets,
    // Closes idle pooled sockets before a server's keep-alive timeout can close them under us.
    timeout: o.idleSocketTimeoutMs,
    scheduling: 'lifo',
  };
  const agent = isHttps
    ? new https.Agent({ ...agentOptions, rejectUnauthorized: !o.insecureSkipTlsVerify })
    : new http.Agent(agentOptions);

  const instance = axios.create({
    // The adapter joins the base URL and the path itself; `baseURL` stays unset so axios does not.
    adapter: createNodeHttpAdapter(o.baseUrl, agent, { responseHeaders: o.responseHeaders }),
    timeout: o.timeoutMs,
    maxRedirects: 0,
    allowAbsoluteUrls: false,
    proxy: false,
    maxContentLength: o.maxContentLength,
    maxBodyLength: o.maxBodyLength,
    headers: { Accept: 'application/json', ...o.headers },
    transformRequest: [(data: unknown) => data],
    transformResponse: [o.parse === 'json' ? parseJsonBody : parseLenientBody],
  });
  trimDefaults(instance, { Accept: 'application/json', ...o.headers });

  // 1. Gate: one permit and one budget deposit per logical call; retries pass through.
  instance.interceptors.request.use(
    (config: InternalAxiosRequestConfig) => {
      const ctx = config.kugel;
      if (!ctx) return config;
      ctx.attempts += 1;
      if (ctx.attempts === 1) {
        // Trace context of the caller's active span; retries re-send the same headers. A
        // `traceparent` set by the caller is left untouched (and nothing else is added).
        if (o.propagateTrace && !config.headers.has('traceparent')) {
          const trace = activeTraceHeaders();
          if (trace)
            for (const [name, value] of Object.entries(trace))
              if (!config.headers.has(name)) config.headers.set(name, value);
        }
        o.budget?.recordRequest();
        if (ctx.breaker) {
          const permit = ctx.breaker.tryAcquire();
          if (!permit) throw refuse(o, ctx, ctx.breaker, config);
          ctx.permit = permit;
        }
      }
      return config;
    },
    // Not `synchronous`: axios' synchronous path would still send a request whose interceptor threw.
  );

  // 2. Retries (axios-retry re-sends through the whole chain).
  axiosRetry(instance, {
    retries: o.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => shouldRetry(error, o),
    retryDelay: (retryCount, error) => {
      const delay = Math.min(o.maxRetryDelayMs, axiosRetry.exponentialDelay(retryCount - 1, error, o.retryDelayMs));
      if (error.config?.kugel) error.config.kugel.nextDelayMs = delay;
      return delay;
    },
    onRetry: (retryCount, error, config) => {
      const reason = error.response ? String(error.response.status) : (error.code ?? 'error');
      const route = config.kugel?.route ?? '-';
      o.logger.warn(`${(config.method ?? 'get').toUpperCase()} ${o.client} ${route}: ${reason}, retry ${retryCount}`);
      if (o.events.retryScheduled.hasListeners) {
        o.events.retryScheduled.emit({
          client: o.client,
          method: (config.method ?? 'get').toUpperCase(),
          route,
          retry: retryCount,
          reason,
          delayMs: Math.round(config.kugel?.nextDelayMs ?? 0),
        });
      }
    },
  });

  // 3. Recorder: runs after axios-retry, so it sees the final outcome of the logical call; the
  //    `settled` flag makes the outer passes of a retried call no-ops.
  instance.interceptors.response.use(
    (response) => {
      const ctx = response.config.kugel;
      if (ctx && !ctx.settled) settle(o, ctx, response.config, response.status, undefined);
      return response;
    },
    (error: unknown) => {
      const err = error as AxiosError;
      const ctx = err?.config?.kugel;
      if (ctx && !ctx.settled) settle(o, ctx, err.config!, err.response?.status, err);
      return Promise.reject(error);
    },
  );

  // 4. Fast refusal: a call whose breaker is open is refused before axios runs. The gate (1) would
  //    refuse it too, but only after axios merged the config and its `request()` formatted two
  //    stack traces (bench: p99 ~120 µs that way, ~20 µs this way). Half-open stays with the gate.
  const send = instance.request.bind(instance);
  instance.request = ((config: AxiosRequestConfig) => {
    const ctx = config.kugel;
    if (ctx && ctx.attempts === 0 && ctx.breaker && ctx.breaker.state === CircuitState.Open) {
      o.budget?.recordRequest();
      return Promise.reject(refuse(o, ctx, ctx.breaker, config as InternalAxiosRequestConfig));
    }
    return send(config);
  }) as AxiosInstance['request'];

  return {
    axios: instance,
    agent,
    destroy: () => agent.destroy(),
  };
}

/**
 * axios merges the instance defaults into every request config. Two parts of axios' own defaults
 * do nothing for this transport and cost per request (about 9 of 21 µs of axios core, measured
 * with a no-op adapter): the per-method header buckets (`common`, `get`, `post`, ...), flattened
 * here to the one header set the transport sends, and the browser-only and default-transform
 * settings (`xsrfCookieName`, `xsrfHeaderName`, `env`, `transitional`), which the node adapter and
 * the transforms above never read.
 */
function trimDefaults(instance: AxiosInstance, headers: Record<string, string>): void {
  const defaults = instance.defaults as unknown as Record<string, unknown>;
  defaults.headers = headers;
  for (const key of ['xsrfCookieName', 'xsrfHeaderName', 'env', 'transitional']) delete defaults[key];
}

/** The retry decision: method, outcome, breaker state and budget. */
function shouldRetry(error: AxiosError, o: TransportOptions): boolean {
  const ctx = error.config?.kugel;
  if (!ctx || isBrokenCircuitError(error) || axios.isCancel(error) || error.code === 'ERR_CANCELED') return false;
  if (ctx.breaker && ctx.breaker.state === CircuitState.Open) return false;
  if (!isRetryableOutcome(error, ctx, o.retryNonIdempotentTimeouts === true)) return false;
  if (o.budget && !o.budget.tryRetry()) {
    if (o.events.retryBudgetExhausted.hasListeners) {
      o.events.retryBudgetExhausted.emit({
        client: o.client,
        method: (error.config?.method ?? 'get').toUpperCase(),
        route: ctx.route,
      });
    }
    return false;
  }
  return true;
}

function isRetryableOutcome(error: AxiosError, ctx: CallContext, retryTimeouts: boolean): boolean {
  if (error.response) return RETRY_STATUSES.has(error.response.status) && ctx.idempotent;
  const code = error.code ?? '';
  if (NEVER_SENT_CODES.has(code)) return true;
  const isTimeout = code === 'ECONNABORTED' || code === 'ETIMEDOUT';
  if (isTimeout && retryTimeouts) return true;
  // A kept-alive socket the server had closed as it was reused (Node marks the request
  // `reusedSocket`): the request never reached the application, so any method may go again.
  if (
    (code === 'ECONNRESET' || code === 'EPIPE') &&
    (error.request as { reusedSocket?: boolean } | undefined)?.reusedSocket
  ) {
    return true;
  }
  if (TRANSIENT_CODES.has(code)) return ctx.idempotent;
  // The response stream was cut mid-body (a reset after the headers).
  if (code === 'ERR_BAD_RESPONSE' && /aborted/.test(error.message)) return ctx.idempotent;
  return false;
}

/**
 * The request was refused on this side before anything was sent (a body over `maxBodyLength`, a
 * header value or path Node will not write): the caller's input, no verdict on the peer. These
 * errors carry no request.
 */
function isLocalRefusal(error: AxiosError): boolean {
  return !error.response && !error.request && !axios.isCancel(error);
}

/** The peer answered, with more than `maxContentLength`: it is alive, the answer is just too big. */
function isOversizedAnswer(error: AxiosError): boolean {
  return error.code === AxiosError.ERR_BAD_RESPONSE && /maxContentLength size of/.test(error.message);
}

function settle(
  o: TransportOptions,
  ctx: CallContext,
  config: InternalAxiosRequestConfig,
  status: number | undefined,
  error: AxiosError | undefined,
): void {
  ctx.settled = true;
  const cancelled = error !== undefined && (axios.isCancel(error) || error.code === 'ERR_CANCELED');
  if (ctx.permit) {
    if (cancelled || (error && isLocalRefusal(error))) ctx.permit.release();
    else if (error && isOversizedAnswer(error)) ctx.permit.success();
    else if (error && (status === undefined || (status >= 500 && !o.isCallerError?.(status, error.response?.data)))) {
      ctx.permit.failure();
    } else ctx.permit.success();
  }
  const durationMs = performance.now() - ctx.startedAt;
  const method = (config.method ?? 'get').toUpperCase();
  const ok = error === undefined;
  if (o.events.requestCompleted.hasListeners) {
    o.events.requestCompleted.emit({
      client: o.client,
      method,
      route: ctx.route,
      status,
      outcome: ok ? 'success' : 'error',
      errorCode: ok || status !== undefined ? undefined : error?.code,
      durationMs,
      attempts: ctx.attempts,
      breaker: ctx.breaker?.name,
    });
  }
  const line = () =>
    `${method} ${o.client} ${redactUrl(config.url ?? '')} → ${status ?? error?.code ?? 'error'} in ${durationMs.toFixed(1)} ms (${ctx.attempts} attempt${ctx.attempts === 1 ? '' : 's'})`;
  if (ok) {
    if (Logger.isLevelEnabled('debug')) o.logger.debug(line());
  } else if (o.logFailures === false || cancelled) {
    if (Logger.isLevelEnabled('debug')) o.logger.debug(line());
  } else if (status === 404) {
    o.logger.warn(line());
  } else {
    o.logger.error(line());
  }
}

/** Settles a call its breaker refused (no attempt was made), logs and reports it; returns the error to throw. */
function refuse(
  o: TransportOptions,
  ctx: CallContext,
  breaker: CircuitBreaker,
  config: InternalAxiosRequestConfig,
): BrokenCircuitError {
  ctx.attempts = 0;
  ctx.settled = true;
  const method = (config.method ?? 'get').toUpperCase();
  // DEBUG, not ERROR: the state change itself is logged at WARN, and an open breaker may refuse
  // thousands of calls a second.
  if (Logger.isLevelEnabled('debug')) {
    o.logger.debug(
      `${method} ${o.client} ${redactUrl(config.url ?? '')} → rejected: circuit "${breaker.name}" is open`,
    );
  }
  if (o.events.requestCompleted.hasListeners) {
    o.events.requestCompleted.emit({
      client: o.client,
      method,
      route: ctx.route,
      outcome: 'rejected',
      errorCode: 'ERR_CIRCUIT_OPEN',
      durationMs: performance.now() - ctx.startedAt,
      attempts: 0,
      breaker: breaker.name,
    });
  }
  return new BrokenCircuitError(breaker.name, breaker.retryAt);
}

/**
 * Parses JSON content types; returns other text as is and an empty body as `undefined`. A body
 * that is not valid JSON fails the call with an `AxiosError` (`ERR_BAD_RESPONSE`, the response
 * attached): a bare `SyntaxError` would carry no config, so the call's breaker permit, event and
 * log line would never be settled.
 */
function parseJsonBody(this: unknown, data: unknown, headers?: { [k: string]: unknown }): unknown {
  if (typeof data !== 'string') return data;
  if (data.length === 0) return undefined;
  const type = String(headers?.['content-type'] ?? '');
  if (!type.includes('json')) return data;
  try {
    return JSON.parse(data);
  } catch (error) {
    // axios' dispatcher sets `config.response` while response transforms run.
    const config = this as InternalAxiosRequestConfig & { response?: AxiosResponse };
    const response = config?.response ? { ...config.response, data: data.slice(0, 1024) } : undefined;
    throw new AxiosError(
      `response body is not valid JSON: ${(error as Error).message}`,
      AxiosError.ERR_BAD_RESPONSE,
      config,
      undefined,
      response,
    );
  }
}

/** Tries JSON whatever the content type (the sidecar returns stored values raw). */
function parseLenientBody(this: unknown, data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

export type { AxiosResponse };
