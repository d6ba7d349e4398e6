import { InvalidOptionsError } from '../errors/invalid-options.error';
import { BackoffOptions } from '../interfaces/backoff-options.interface';
import { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface';
import { DaprOptions } from '../interfaces/dapr-options.interface';
import { HttpOptions, RetryBudgetOptions, ServiceOptions } from '../interfaces/http-options.interface';
import { DEFAULTS } from './defaults';
import { renamedOption } from './deprecated-options';
import { resolveBackoff } from './resolve-backoff';
import {
  ResolvedBreakerOptions,
  ResolvedDaprOptions,
  ResolvedHttpOptions,
  ResolvedRetryBudgetOptions,
  ResolvedServiceOptions,
  ResolvedTransportOptions,
} from './resolved-options.interface';
import {
  bool,
  checkBaseUrl,
  envValue,
  headerValue,
  nonNegativeInt,
  nonNegativeMs,
  nonNegativeNumber,
  object,
  positiveInt,
  positiveMs,
  SERVICE_NAME,
} from './validators';

/** `http.*`: the defaults of every REST peer. */
export function resolveHttp(o: HttpOptions, p = 'http'): ResolvedHttpOptions {
  object(p, o);
  return {
    ...resolveTransport(p, o, DEFAULTS.http),
    retryBudget: o.retryBudget === false ? false : resolveBudget(`${p}.retryBudget`, o.retryBudget ?? {}),
    breaker: o.breaker === undefined ? false : resolveBreakerOrFalse(`${p}.breaker`, o.breaker),
  };
}

/** `services[name]` (or a base URL found in `BASE_URL_<NAME>`, named by `option`) over `http.*`. */
export function resolveService(
  name: string,
  value: string | ServiceOptions,
  http: ResolvedHttpOptions,
  option = `services.${name}`,
): ResolvedServiceOptions {
  if (!SERVICE_NAME.test(name)) {
    throw new InvalidOptionsError(option, name, 'must be a service name of letters, digits, ".", "_" or "-"');
  }
  const spec: ServiceOptions = typeof value === 'string' ? { baseUrl: value } : value;
  object(option, spec, 'must be a base URL string or { baseUrl, ... }');
  const baseUrl = checkBaseUrl(`${option}${typeof value === 'string' ? '' : '.baseUrl'}`, spec.baseUrl);
  return {
    ...http,
    baseUrl,
    timeoutMs: positiveMs(`${option}.timeoutMs`, spec.timeoutMs ?? http.timeoutMs),
    retries: nonNegativeInt(`${option}.retries`, spec.retries ?? http.retries),
    maxSockets: positiveInt(`${option}.maxSockets`, spec.maxSockets ?? http.maxSockets),
    breaker: spec.breaker === undefined ? http.breaker : resolveBreakerOrFalse(`${option}.breaker`, spec.breaker),
  };
}

/**
 * `dapr.*`. The sidecar client's transport options (`backoff`, `maxSockets`, `idleSocketTimeoutMs`,
 * `maxContentLength`, `maxBodyLength`) default to the resolved `http.*` values (each `backoff` value
 * on its own); its timeout and retries have defaults of their own.
 */
export function resolveDapr(o: DaprOptions, http: ResolvedHttpOptions, env: NodeJS.ProcessEnv): ResolvedDaprOptions {
  object('dapr', o);
  const d = DEFAULTS.dapr;
  let endpoint = o.httpEndpoint;
  if (endpoint === undefined) {
    const port = envValue(env, 'DAPR_HTTP_PORT') ?? String(d.port);
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw new InvalidOptionsError('DAPR_HTTP_PORT', port, 'must be a TCP port number');
    }
    endpoint = `http://127.0.0.1:${port}`;
  }
  const apiToken = o.apiToken ?? envValue(env, 'DAPR_API_TOKEN');
  return {
    ...resolveTransport('dapr', o, {
      ...http,
      timeoutMs: d.timeoutMs,
      retries: d.retries,
      insecureSkipTlsVerify: false,
    }),
    httpEndpoint: checkBaseUrl('dapr.httpEndpoint', endpoint),
    apiToken: apiToken === undefined ? undefined : headerValue('dapr.apiToken', apiToken),
    breaker: resolveBreaker('dapr.breaker', o.breaker ?? {}),
    waitForSidecarMs: nonNegativeMs('dapr.waitForSidecarMs', o.waitForSidecarMs ?? d.waitForSidecarMs),
    serviceInvocation: bool('dapr.serviceInvocation', o.serviceInvocation ?? d.serviceInvocation),
  };
}

/** Breaker options over `DEFAULTS.breaker`; `p` names them in errors. Also used by `CircuitBreaker` itself. */
export function resolveBreaker(p: string, o: CircuitBreakerOptions = {}): ResolvedBreakerOptions {
  object(p, o);
  const d = DEFAULTS.breaker;
  return {
    failureThreshold: positiveInt(`${p}.failureThreshold`, o.failureThreshold ?? d.failureThreshold),
    resetTimeoutMs: positiveMs(`${p}.resetTimeoutMs`, o.resetTimeoutMs ?? d.resetTimeoutMs),
    halfOpenMaxCalls: positiveInt(`${p}.halfOpenMaxCalls`, o.halfOpenMaxCalls ?? d.halfOpenMaxCalls),
  };
}

/** What `http.*` and `dapr.*` have in common, as given. */
type TransportInput = Omit<Partial<ResolvedTransportOptions>, 'backoff'> &
  Pick<HttpOptions, 'backoff' | 'retryDelayMs' | 'maxRetryDelayMs'>;

/** The options every pooled client has, each over `fallback`. */
function resolveTransport(p: string, o: TransportInput, fallback: ResolvedTransportOptions): ResolvedTransportOptions {
  return {
    timeoutMs: positiveMs(`${p}.timeoutMs`, o.timeoutMs ?? fallback.timeoutMs),
    retries: nonNegativeInt(`${p}.retries`, o.retries ?? fallback.retries),
    backoff: resolveBackoff(`${p}.backoff`, retryBackoff(p, o), fallback.backoff, true),
    maxSockets: positiveInt(`${p}.maxSockets`, o.maxSockets ?? fallback.maxSockets),
    idleSocketTimeoutMs: positiveMs(`${p}.idleSocketTimeoutMs`, o.idleSocketTimeoutMs ?? fallback.idleSocketTimeoutMs),
    maxContentLength: positiveInt(`${p}.maxContentLength`, o.maxContentLength ?? fallback.maxContentLength),
    maxBodyLength: positiveInt(`${p}.maxBodyLength`, o.maxBodyLength ?? fallback.maxBodyLength),
    insecureSkipTlsVerify: bool(
      `${p}.insecureSkipTlsVerify`,
      o.insecureSkipTlsVerify ?? fallback.insecureSkipTlsVerify,
    ),
  };
}

/** `p.backoff`, with the old names `p.retryDelayMs` and `p.maxRetryDelayMs` mapped onto it. */
function retryBackoff(p: string, o: TransportInput): BackoffOptions {
  const backoff = object(`${p}.backoff`, o.backoff ?? {});
  const initialDelayMs = renamedOption(
    `${p}.retryDelayMs`,
    o.retryDelayMs,
    `${p}.backoff.initialDelayMs`,
    backoff.initialDelayMs,
  );
  const maxDelayMs = renamedOption(
    `${p}.maxRetryDelayMs`,
    o.maxRetryDelayMs,
    `${p}.backoff.maxDelayMs`,
    backoff.maxDelayMs,
  );
  return { ...backoff, initialDelayMs, maxDelayMs };
}

function resolveBudget(p: string, o: RetryBudgetOptions): ResolvedRetryBudgetOptions {
  object(p, o, 'must be false or an object');
  const d = DEFAULTS.retryBudget;
  const ratio = o.ratio ?? d.ratio;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw new InvalidOptionsError(`${p}.ratio`, ratio, 'must be a number from 0 to 1');
  }
  return {
    ratio,
    minRetriesPerSecond: nonNegativeNumber(`${p}.minRetriesPerSecond`, o.minRetriesPerSecond ?? d.minRetriesPerSecond),
    windowMs: positiveMs(`${p}.windowMs`, o.windowMs ?? d.windowMs),
  };
}

function resolveBreakerOrFalse(p: string, o: false | CircuitBreakerOptions): ResolvedBreakerOptions | false {
  return o === false ? false : resolveBreaker(p, o);
}
