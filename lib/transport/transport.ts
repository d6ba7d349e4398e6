import { Logger } from '@nestjs/common';
import axios, { AxiosAdapter, AxiosInstance, CanceledError } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { installBreakerGuard } from './breaker.interceptor';
import { CallEvents } from './call-events';
import { ResolvedTransportOptions } from '../options/resolved-options.interface';
import { BodyParsing } from './call-result';
import { CallRunner } from './call-runner';
import { callStateOf } from './call-state';
import { createNodeHttpAdapter } from './node-http.adapter';
import { RetryBudget } from './retry-budget';
import { installRetries } from './retry-policy';

export interface TransportOptions extends ResolvedTransportOptions {
  /** Service name (or `dapr`): used in logs, events and errors. */
  client: string;
  baseUrl: string;
  budget?: RetryBudget;
  /** Headers sent on every call (e.g. `dapr-api-token`); never logged. */
  headers?: Record<string, string>;
  /** Install the breaker guard interceptor (the client's calls can carry a breaker). */
  breakerGuard: boolean;
  parsing: BodyParsing;
  /** See `CallRunnerOptions.logFailures` (default `true`). */
  logFailures?: boolean;
  /** See `CallRunnerOptions.isCallerError`. */
  isCallerError?: (status: number, body: unknown) => boolean;
  /** Response headers the callers read (all when unset); see `NodeHttpAdapterOptions.responseHeaders`. */
  responseHeaders?: readonly string[];
  propagateTrace: boolean;
  events: CallEvents;
  logger: Logger;
  /**
   * What sends one attempt instead of the node:http adapter on a keep-alive agent (no agent is
   * built then): the in-memory peers and sidecar of `kugel-comms/testing`.
   */
  send?: AxiosAdapter;
}

/**
 * Request options of axios this client never uses, unset on its instance (axios' documented
 * default applies to an option left unset):
 * - `xsrfCookieName`, `xsrfHeaderName`: read by the browser adapters only;
 * - `env`: the `FormData`/`Blob` classes of axios' form serialisation and fetch adapter; bodies here
 *   are strings or bytes serialised by the callers' checks, sent by the node:http adapter;
 * - `transitional`: flags of axios' own JSON transforms and adapters (none are used here) and of its
 *   interceptor order, whose default is the value `axios.create` would have copied.
 */
const UNUSED_DEFAULTS = ['transitional', 'env', 'xsrfCookieName', 'xsrfHeaderName'] as const;

/** The response headers a call reads itself (`CallSpec.bodyOnly`): the body's type and the backoff's `Retry-After`. */
const BODY_ONLY_HEADERS: ReadonlySet<string> = new Set(['content-type', 'retry-after']);

/** One pooled client: the call runner and what it runs on. */
export interface Transport {
  runner: CallRunner;
  /** The axios instance the runner drives (also used directly by the sidecar's health probes). */
  axios: AxiosInstance;
  /** The keep-alive agent (none when `send` replaced the node:http adapter). */
  agent?: http.Agent;
  /**
   * What sends a health probe (`config.adapter` of the probe's request): the node:http adapter on an
   * agent of its own without keep-alive, so that a probe of a server that accepts and never answers
   * holds none of the sockets the calls share (`send` when it replaced the node:http adapter).
   */
  probeAdapter: AxiosAdapter;
  /**
   * Closes the client (application shutdown): its sockets are destroyed, and from now on every
   * attempt, a retry of a call in flight included, fails with `ERR_CANCELED` before anything is
   * sent (a destroyed agent would open new sockets that outlive the shutdown).
   */
  destroy(): void;
}

/**
 * Builds the pooled client behind a `ServiceClient` or the `DaprClientHelper`: one keep-alive
 * agent (bounded by `maxSockets`, idle sockets retired before the server's keep-alive timeout),
 * an axios instance on the node:http adapter with the breaker guard interceptor (when the client
 * has breakers) and axios-retry, and the call runner that drives it. No redirect is followed and
 * no proxy is taken from the environment: the adapter sends to the base URL's host only.
 */
export function createTransport(o: TransportOptions): Transport {
  const agent = o.send ? undefined : createAgent(o);
  const probeAgent = o.send ? undefined : createAgent(o, false);
  const probeSend = o.send ?? createNodeHttpAdapter(o.baseUrl, probeAgent!);
  const send =
    o.send ??
    createNodeHttpAdapter(o.baseUrl, agent!, {
      responseHeaders: o.responseHeaders,
      responseHeadersOf: (config) => (callStateOf(config)?.spec.bodyOnly ? BODY_ONLY_HEADERS : undefined),
    });
  let closed = false;
  // Counts the attempts of a call: what reaches the adapter (a withheld retry does not).
  const adapter: AxiosAdapter = (config) => {
    if (closed) return Promise.reject(new CanceledError('the client is closed (shutdown): nothing was sent', config));
    const state = callStateOf(config);
    if (state) state.attempts += 1;
    return send(config);
  };
  const probeAdapter: AxiosAdapter = (config) =>
    closed
      ? Promise.reject(new CanceledError('the client is closed (shutdown): nothing was sent', config))
      : probeSend(config);

  const headers = { Accept: 'application/json', ...o.headers };
  const instance = axios.create({
    adapter,
    timeout: o.timeoutMs,
    maxContentLength: o.maxContentLength,
    maxBodyLength: o.maxBodyLength,
    headers,
    // Bodies are serialised by the callers' input checks and parsed by the runner: no transforms.
    transformRequest: [],
    transformResponse: [],
  });
  // The instance's default headers are the one flat set this client sends: `axios.create` puts
  // them beside axios' per-method groups (`common`, `get`, `post`, ...), which axios merges into
  // every request again (about 8 µs of 113 per GET in this repo's bench) and whose `Accept` and
  // `Content-Type` this client never sends.
  instance.defaults.headers = headers as unknown as typeof instance.defaults.headers;
  // Defaults `axios.create` copies from axios' global defaults that no request of this client
  // reads, left unset: axios merges every default key into each request's config and walks the
  // merged config again further on (about 11 CPU µs of 104 per GET, measured beside the same
  // client with them). See `UNUSED_DEFAULTS`.
  for (const key of UNUSED_DEFAULTS) delete (instance.defaults as unknown as Record<string, unknown>)[key];
  if (o.breakerGuard) installBreakerGuard(instance);
  installRetries(instance, {
    client: o.client,
    retries: o.retries,
    backoff: o.backoff,
    budget: o.budget,
    events: o.events,
    logger: o.logger,
  });
  const runner = new CallRunner(instance, {
    client: o.client,
    parsing: o.parsing,
    budget: o.budget,
    propagateTrace: o.propagateTrace,
    logFailures: o.logFailures !== false,
    isCallerError: o.isCallerError,
    events: o.events,
    logger: o.logger,
  });
  const destroy = () => {
    closed = true;
    agent?.destroy();
    probeAgent?.destroy();
  };
  return { runner, axios: instance, agent, probeAdapter, destroy };
}

/**
 * One keep-alive agent per client, bounded by `maxSockets`; with `keepAlive` false, the probes'
 * agent: a socket per probe, closed when the probe ends (its deadline destroys it).
 */
function createAgent(o: TransportOptions, keepAlive = true): http.Agent {
  const agentOptions: https.AgentOptions = keepAlive
    ? {
        keepAlive: true,
        maxSockets: o.maxSockets,
        maxFreeSockets: o.maxSockets,
        // Closes idle pooled sockets before a server's keep-alive timeout can close them under us.
        timeout: o.idleSocketTimeoutMs,
        scheduling: 'lifo',
      }
    : { keepAlive: false };
  return o.baseUrl.startsWith('https:')
    ? new https.Agent({ ...agentOptions, rejectUnauthorized: !o.insecureSkipTlsVerify })
    : new http.Agent(agentOptions);
}
