import { AxiosInstance } from 'axios';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { CallState, callStateOf } from './call-state';

/**
 * Whether another attempt of a call may be sent now: never into an open breaker. The one place
 * this is decided; the retry condition asks it before scheduling a retry, the interceptor below
 * asks it again when the retry is about to go out.
 */
export function attemptAllowed(state: CallState): boolean {
  return state.spec.breaker === undefined || state.spec.breaker.state !== CircuitState.Open;
}

/**
 * The breaker's axios interceptor on a pooled client (the sidecar's, and a REST peer's with a
 * breaker): the per-attempt guard. Admission — one permit per logical call, an open breaker
 * refusing without I/O — is the call runner's (`call-runner.ts`), before axios runs;
 * this interceptor stops a retry from being sent into a breaker that opened while the retry
 * waited out its backoff (other calls' failures opened it). The call then ends with the failure
 * that led to the retry, as if no retry had been scheduled: nothing more is sent and the call's
 * permit gets that failure's verdict.
 */
export function installBreakerGuard(instance: AxiosInstance): void {
  instance.interceptors.request.use(
    (config) => {
      const state = callStateOf(config);
      if (state?.lastFailure && state.attempts > 0 && !attemptAllowed(state)) throw state.lastFailure;
      return config;
    },
    // Not `synchronous`: axios' synchronous path would still send a request whose interceptor threw.
  );
}
