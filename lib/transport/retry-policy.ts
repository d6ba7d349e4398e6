import { Logger } from '@nestjs/common';
import { AxiosError, AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { attemptAllowed } from '../circuit-breaker/breaker.interceptor';
import { KugelCommsEvents } from '../observability/comms-events';
import { faultOf } from './adapter-fault';
import { classifyError } from './call-result';
import { callStateOf } from './call-state';
import { RetryBudget } from './retry-budget';

/** HTTP statuses worth another attempt (the peer or a proxy says "try again"). */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/** Errors that prove the request never reached the server: safe to retry for any method. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Connection errors after which an idempotent request may be retried. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

export interface RetryPolicyOptions {
  client: string;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  budget?: RetryBudget;
  /** Retry timeouts of non-idempotent calls too (the sidecar's publish and save are idempotent by key/event id). */
  retryNonIdempotentTimeouts: boolean;
  events: KugelCommsEvents;
  logger: Logger;
}

/**
 * axios-retry on a pooled instance with the product's retry condition, backoff (exponential with
 * jitter, `Retry-After` honoured, capped by `maxRetryDelayMs`) and budget. A request made without
 * the call runner (a health probe) is never retried.
 */
export function installRetries(instance: AxiosInstance, o: RetryPolicyOptions): void {
  axiosRetry(instance, {
    retries: o.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => shouldRetry(error, o),
    retryDelay: (retryCount, error) => {
      const delay = Math.min(o.maxRetryDelayMs, axiosRetry.exponentialDelay(retryCount - 1, error, o.retryDelayMs));
      const state = callStateOf(error.config);
      if (state) state.nextDelayMs = delay;
      return delay;
    },
    onRetry: (retryCount, error, config) => {
      const state = callStateOf(config);
      if (state) state.lastFailure = error;
      const reason = error.response ? String(error.response.status) : (error.code ?? 'error');
      const method = (config.method ?? 'get').toUpperCase();
      const route = state?.spec.route ?? '-';
      o.logger.warn(`${method} ${o.client} ${route}: ${reason}, retry ${retryCount}`);
      if (o.events.retryScheduled.hasListeners) {
        o.events.retryScheduled.emit({
          client: o.client,
          method,
          route,
          retry: retryCount,
          reason,
          delayMs: Math.round(state?.nextDelayMs ?? 0),
        });
      }
    },
  });
}

/** The retry decision: the outcome and method, the breaker (`attemptAllowed`), then the budget. */
function shouldRetry(error: AxiosError, o: RetryPolicyOptions): boolean {
  const state = callStateOf(error.config);
  if (!state || !attemptAllowed(state)) return false;
  if (!isRetryable(error, state.spec.idempotent, o.retryNonIdempotentTimeouts)) return false;
  if (o.budget && !o.budget.tryRetry()) {
    if (o.events.retryBudgetExhausted.hasListeners) {
      o.events.retryBudgetExhausted.emit({
        client: o.client,
        method: (error.config?.method ?? 'get').toUpperCase(),
        route: state.spec.route,
      });
    }
    return false;
  }
  return true;
}

/** Whether a failed attempt may be repeated, from its kind and code (see README, "What is retried"). */
export function isRetryable(error: unknown, idempotent: boolean, retryTimeouts: boolean): boolean {
  const { kind, code, status } = classifyError(error);
  switch (kind) {
    case 'status':
      return RETRY_STATUSES.has(status!) && idempotent;
    case 'timeout':
      return retryTimeouts || idempotent;
    case 'cut-off':
      return idempotent;
    case 'network':
      if (NEVER_SENT_CODES.has(code) || faultOf(error) === 'stale-socket') return true;
      return TRANSIENT_CODES.has(code) && idempotent;
    default:
      // too-large (the same answer would come back), not-sent (the caller's input), cancelled, internal
      return false;
  }
}
