import { Logger } from '@nestjs/common';
import axios, { AxiosInstance, AxiosRequestConfig, AxiosResponse } from 'axios';
import { performance } from 'node:perf_hooks';
import { CircuitPermit } from '../circuit-breaker/circuit-breaker';
import { redactUrl } from '../common/redact';
import { hasHeader } from '../input/headers';
import { CallEvents } from './call-events';
import { activeTraceHeaders } from './trace-context';
import { BodyParsing, CallFailure, CallResult, classifyError, parseBody } from './call-result';
import { attachCallState, CallSpec, CallState } from './call-state';
import { mayHaveReached } from './repeat-safety';
import { RetryBudget } from './retry-budget';

export interface CallRunnerOptions {
  /** Service name (or `dapr`): used in logs and events. */
  client: string;
  parsing: BodyParsing;
  budget?: RetryBudget;
  /** Add the active OpenTelemetry context's `traceparent`/`tracestate` (option `tracing.propagate`). */
  propagateTrace: boolean;
  /**
   * Log each failed call at WARN (404) or ERROR. The sidecar client turns it off (failures are
   * then DEBUG lines here): its helper logs every failure once itself, with the operation,
   * component and key.
   */
  logFailures: boolean;
  /**
   * A 5xx answer that is the caller's own doing, not a sick peer: it settles the breaker permit as
   * a success (the sidecar answers an ETag conflict inside a state transaction with a 500).
   */
  isCallerError?: (status: number, body: unknown) => boolean;
  events: CallEvents;
  logger: Logger;
}

/**
 * The one place a logical call runs, for `ServiceClient`, `DaprClientHelper` (and anything that
 * can hand it an axios request config):
 *
 * 1. deposits the call in the retry budget;
 * 2. takes the breaker permit; an open breaker refuses here, before axios builds anything
 *    (no I/O, no axios config merge);
 * 3. puts the call's state on the config (`call-state.ts`) and the trace headers in it;
 * 4. runs `axios.request()` — the breaker guard interceptor, axios-retry and the node:http adapter
 *    inside; every attempt and retry happens in there;
 * 5. turns what axios returned into one `CallResult`, classified by code (`call-result.ts`), the
 *    body parsed here;
 * 6. settles the permit exactly once (success, failure or release), now that the call is over;
 * 7. emits `requestCompleted` and logs one line.
 *
 * Never rejects: every outcome is a `CallResult`.
 */
export class CallRunner {
  constructor(
    private readonly axios: AxiosInstance,
    private readonly o: CallRunnerOptions,
  ) {}

  /**
   * Runs one call. `config` is what goes to `axios.request()`: method, `url` relative to the
   * client's base URL, headers as a plain record, `data` already serialised, and optionally
   * `signal`, a per-call `timeout` and an `axios-retry` override.
   */
  async run(config: AxiosRequestConfig, spec: CallSpec): Promise<CallResult> {
    const startedAt = performance.now();
    this.o.budget?.recordRequest();
    let permit: CircuitPermit | undefined;
    if (spec.breaker) {
      permit = spec.breaker.tryAcquire();
      if (permit === undefined) return this.refuse(config, spec, startedAt);
    }
    const state = new CallState(spec);
    attachCallState(config, state);
    if (this.o.propagateTrace) addTraceHeaders(config);
    let result: CallResult;
    try {
      result = this.answered(await this.axios.request(config), state);
    } catch (error) {
      result = this.failed(error, state);
    }
    if (permit) settle(permit, result, this.o.isCallerError);
    this.report(config, spec, result, startedAt);
    return result;
  }

  private answered(response: AxiosResponse, state: CallState): CallResult {
    const headers = response.headers as Record<string, unknown>;
    const body = parseBody(response.data, headers['content-type'], this.o.parsing);
    if (body.ok) {
      return { ok: true, status: response.status, data: body.value, headers, attempts: state.attempts };
    }
    return {
      ok: false,
      kind: 'unreadable',
      code: 'ERR_BAD_RESPONSE',
      message: `response body is not valid JSON: ${body.error}`,
      status: response.status,
      response: String(response.data).slice(0, 1024),
      headers,
      attempts: state.attempts,
    };
  }

  private failed(error: unknown, state: CallState): CallFailure {
    const { kind, code, status } = classifyError(error);
    const answer = axios.isAxiosError(error) ? error.response : undefined;
    let response: unknown;
    if (answer) {
      const body = parseBody(answer.data, (answer.headers as Record<string, unknown>)['content-type'], this.o.parsing);
      response = body.ok ? body.value : String(answer.data).slice(0, 1024);
    }
    return {
      ok: false,
      kind,
      code,
      message: error instanceof Error ? error.message : String(error),
      status,
      response,
      headers: answer?.headers as Record<string, unknown> | undefined,
      attempts: state.attempts,
      mayHaveReached: mayHaveReached(error),
    };
  }

  /** A call its breaker refused: reported as `rejected`, logged at DEBUG (the state change itself is a WARN line). */
  private refuse(config: AxiosRequestConfig, spec: CallSpec, startedAt: number): CallFailure {
    const breaker = spec.breaker!.name;
    const method = (config.method ?? 'get').toUpperCase();
    if (Logger.isLevelEnabled('debug')) {
      this.o.logger.debug(
        `${method} ${this.o.client} ${redactUrl(config.url ?? '')} → rejected: circuit "${breaker}" is open`,
      );
    }
    if (this.o.events.requestCompleted.hasListeners) {
      this.o.events.requestCompleted.emit({
        client: this.o.client,
        method,
        route: spec.route,
        outcome: 'rejected',
        errorCode: 'ERR_CIRCUIT_OPEN',
        durationMs: performance.now() - startedAt,
        attempts: 0,
        breaker,
      });
    }
    return {
      ok: false,
      kind: 'circuit-open',
      code: 'ERR_CIRCUIT_OPEN',
      message: `circuit "${breaker}" is open`,
      attempts: 0,
    };
  }

  private report(config: AxiosRequestConfig, spec: CallSpec, result: CallResult, startedAt: number): void {
    const durationMs = performance.now() - startedAt;
    const method = (config.method ?? 'get').toUpperCase();
    const status = result.status;
    if (this.o.events.requestCompleted.hasListeners) {
      this.o.events.requestCompleted.emit({
        client: this.o.client,
        method,
        route: spec.route,
        status,
        outcome: result.ok ? 'success' : 'error',
        errorCode: result.ok || status !== undefined ? undefined : result.code,
        durationMs,
        attempts: result.attempts,
        breaker: spec.breaker?.name,
      });
    }
    const quiet = result.ok || !this.o.logFailures || result.kind === 'cancelled';
    if (quiet && !Logger.isLevelEnabled('debug')) return;
    const line = `${method} ${this.o.client} ${redactUrl(config.url ?? '')} → ${status ?? (result.ok ? '' : result.code)} in ${durationMs.toFixed(1)} ms (${result.attempts} attempt${result.attempts === 1 ? '' : 's'})`;
    if (quiet) this.o.logger.debug(line);
    else if (status === 404) this.o.logger.warn(line);
    else this.o.logger.error(line);
  }
}

/**
 * The permit's verdict, once the call is over: a failure for a sick peer (no answer, a timeout,
 * a cut-off answer, a 5xx that is not the caller's doing), a release for a call that says nothing
 * about the peer (cancelled, refused locally, a bug), a success for everything else (a 2xx-4xx
 * answer, an answer too large or unreadable: the peer is alive).
 */
function settle(
  permit: CircuitPermit,
  result: CallResult,
  isCallerError?: (status: number, body: unknown) => boolean,
): void {
  if (result.ok) return permit.success();
  switch (result.kind) {
    case 'cancelled':
    case 'not-sent':
    case 'internal':
      return permit.release();
    case 'status':
      return result.status! >= 500 && !isCallerError?.(result.status!, result.response)
        ? permit.failure()
        : permit.success();
    case 'too-large':
    case 'unreadable':
      return permit.success();
    default:
      return permit.failure();
  }
}

/**
 * The caller's active trace context, sent once per call (retries re-send the same headers). A
 * `traceparent` the caller set is left untouched, and nothing else is added then.
 */
function addTraceHeaders(config: AxiosRequestConfig): void {
  const headers = (config.headers ??= {}) as Record<string, unknown>;
  if (hasHeader(headers, 'traceparent')) return;
  const trace = activeTraceHeaders();
  if (!trace) return;
  for (const name in trace) if (!hasHeader(headers, name)) headers[name] = trace[name];
}
