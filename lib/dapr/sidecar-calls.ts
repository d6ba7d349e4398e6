import { Logger } from '@nestjs/common';
import { AxiosRequestConfig } from 'axios';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { stopSignalSource } from '../common/abandonable';
import { InputError, isInputError } from '../input/input.error';
import { CallFailure, CallSuccess } from '../transport/call-result';
import { CallRunner } from '../transport/call-runner';
import { DaprFailure, DaprResult } from './dapr.interfaces';
import { DaprRequest, isStateConflict } from './dapr-requests';

/** The code of a write that may or may not have happened (see `DaprResult`). */
export const UNKNOWN_OUTCOME = 'ERR_UNKNOWN_OUTCOME';

/** A Dapr building block whose components each have a breaker (`state:<store>`, `pubsub:<pubsub>`). */
export type ComponentKind = 'state' | 'pubsub';

/**
 * The run machinery of the sidecar client: one logical operation from its arguments to a
 * `DaprResult`. Never rejects.
 *
 * 1. builds the request (`dapr-requests.ts`); bad input → `ERR_BAD_REQUEST_INPUT`, nothing sent;
 * 2. waits (bounded) for the sidecar at start-up, while that wait lasts;
 * 3. runs it through the call runner under the component's breaker; once the module shuts down
 *    (`stop`), a call is answered `ERR_CLIENT_CLOSED` without being sent, and one in flight is
 *    cancelled (`ERR_CANCELED`, not retried), so none outlives the shutdown;
 * 4. maps the `CallResult` to a `DaprResult` and logs a failure once, with the operation,
 *    component and key: WARN when the sidecar refused the request, ERROR when it or its store
 *    failed, DEBUG when the breaker refused it.
 */
export class SidecarCalls {
  private startup?: Promise<unknown>;
  /** Aborted on shutdown; every call in flight listens to it (as many listeners as calls at once). */
  private readonly stopping = stopSignalSource();

  constructor(
    private readonly runner: CallRunner,
    private readonly breakerFor: (kind: ComponentKind, component: string) => CircuitBreaker,
    private readonly logger: Logger,
  ) {}

  /** Calls wait for `ready` (the start-up wait for the sidecar) until it settles. */
  holdUntil(ready: Promise<unknown>): void {
    this.startup = ready;
    // Once the wait is over (ready or given up), calls stop awaiting it: one await less per call.
    void ready.finally(() => {
      if (this.startup === ready) this.startup = undefined;
    });
  }

  /** Cancels the calls in flight; later ones are answered `ERR_CLIENT_CLOSED`, nothing sent. */
  stop(): void {
    this.stopping.abort();
  }

  async run<T>(
    what: string,
    kind: ComponentKind,
    component: string,
    build: () => DaprRequest,
    read: (answer: CallSuccess) => T,
  ): Promise<DaprResult<T>> {
    return (await this.exchange(what, kind, component, build, read)).result;
  }

  /**
   * `run`, also handing back the body of a failed answer (`answer`): bulk publish reads daprd's
   * `failedEntries` from it.
   */
  async exchange<T>(
    what: string,
    kind: ComponentKind,
    component: string,
    build: () => DaprRequest,
    read: (answer: CallSuccess) => T,
  ): Promise<{ result: DaprResult<T>; answer?: unknown }> {
    let request: DaprRequest;
    try {
      if (typeof component !== 'string' || component.length === 0)
        throw new InputError(`${kind} component name must be a non-empty string`);
      request = build();
    } catch (error) {
      // Not the caller's input: a bug of this library. Still returned, never thrown, and named only.
      if (!isInputError(error)) {
        const name = error instanceof Error ? error.name : typeof error;
        return {
          result: this.failed(
            { ok: false, error: `${what}: unexpected ${name} (nothing was sent)`, code: 'ERR_INTERNAL' },
            'error',
          ),
        };
      }
      return {
        result: this.failed(
          {
            ok: false,
            error: `${what}: bad input: ${error.message} (nothing was sent)`,
            code: 'ERR_BAD_REQUEST_INPUT',
          },
          'error',
        ),
      };
    }
    if (this.startup) await this.startup;
    if (this.stopping.signal.aborted) {
      const error = `${what}: the application is shutting down (nothing was sent)`;
      return { result: this.failed({ ok: false, error, code: 'ERR_CLIENT_CLOSED' }, 'warn') };
    }
    const config: AxiosRequestConfig = { method: request.method, url: request.url, signal: this.stopping.signal };
    if (request.data !== undefined) config.data = request.data;
    if (request.headers !== undefined) config.headers = request.headers;
    const result = await this.runner.run(config, {
      route: request.route,
      repeatable: request.repeatable,
      breaker: this.breakerFor(kind, component),
    });
    if (!result.ok) {
      const failure = daprFailure(what, result, request.repeatable);
      return { result: this.failed(failure, levelOf(result)), answer: result.response };
    }
    const etag = typeof result.headers.etag === 'string' ? result.headers.etag : undefined;
    try {
      return { result: { ok: true, value: read(result), etag } };
    } catch (error) {
      return {
        result: this.failed(
          {
            ok: false,
            error: `${what}: the sidecar's answer is not as documented: ${(error as Error).message}`,
            code: 'ERR_BAD_RESPONSE',
            status: result.status,
          },
          'error',
        ),
      };
    }
  }

  private failed(failure: DaprFailure, level: 'debug' | 'warn' | 'error'): DaprFailure {
    this.logger[level](failure.error);
    return failure;
  }
}

/**
 * DEBUG for a call the breaker refused (the state change was logged at WARN; one line per refused
 * call would flood the log) and for a state conflict (`isStateConflict`: a 409, a transaction's ETag
 * mismatch, a first-write refused with a 500: the expected end of an optimistic write that lost a
 * race, which its caller handles: it gets `false` or `conflict: true` from `dapr.detailed`); WARN
 * when the sidecar is fine but refused the request (a bad name, a missing token); ERROR when the
 * sidecar or its store failed.
 */
function levelOf(f: CallFailure): 'debug' | 'warn' | 'error' {
  if (f.kind === 'circuit-open') return 'debug';
  if (f.status !== undefined && isStateConflict(f.status, f.response)) return 'debug';
  if (f.status !== undefined && f.status < 500) return 'warn';
  return 'error';
}

/**
 * A call's failure as the sidecar client reports it: Dapr's `errorCode` and message when it
 * answered; `ERR_UNKNOWN_OUTCOME` when a write that is not repeatable may have reached the sidecar
 * without its answer reaching us.
 */
function daprFailure(what: string, f: CallFailure, repeatable: boolean): DaprFailure {
  const n = f.attempts;
  const attempts = `${n} attempt${n === 1 ? '' : 's'}`;
  if (f.kind === 'circuit-open') return { ok: false, error: `${what}: ${f.message} (nothing was sent)`, code: f.code };
  if (!repeatable && f.status === undefined && f.mayHaveReached) {
    return {
      ok: false,
      code: UNKNOWN_OUTCOME,
      error:
        `${what}: outcome unknown: ${f.code} (${f.message}) after the request may have reached the sidecar ` +
        `(${attempts}); not sent again, as repeating it is not safe: read the state back to learn whether it happened`,
    };
  }
  if (f.status !== undefined) {
    const body = f.response as { errorCode?: unknown; message?: unknown } | string | undefined;
    const errorCode =
      typeof body === 'object' && body && typeof body.errorCode === 'string' ? body.errorCode : undefined;
    const detail = typeof body === 'object' && body?.message ? `: ${String(body.message).slice(0, 300)}` : '';
    const failure: DaprFailure = {
      ok: false,
      status: f.status,
      code: errorCode ?? f.code,
      error: `${what}: sidecar answered HTTP ${f.status}${errorCode ? ` ${errorCode}` : ''}${detail} (${attempts})`,
    };
    if (isStateConflict(f.status, body)) failure.conflict = true;
    return failure;
  }
  return { ok: false, code: f.code, error: `${what}: ${f.code} (${f.message}) after ${attempts}` };
}
