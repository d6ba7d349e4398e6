import { Logger } from '@nestjs/common';
import { AxiosError, AxiosInstance } from 'axios';
import axiosRetry, { retryAfter } from 'axios-retry';
import { backoffDelay, ResolvedBackoff } from '../common/backoff';
import { attemptAllowed } from './breaker.interceptor';
import { CallEvents } from './call-events';
import { callStateOf } from './call-state';
import { mayRepeat } from './repeat-safety';
import { RetryBudget } from './retry-budget';

export interface RetryPolicyOptions {
  client: string;
  retries: number;
  backoff: ResolvedBackoff;
  budget?: RetryBudget;
  events: CallEvents;
  logger: Logger;
}

/**
 * axios-retry on a pooled instance with the product's retry condition, backoff (the package's one
 * `backoffDelay`; a longer `Retry-After` is waited instead, both capped by `backoff.maxDelayMs`) and
 * budget. A request made without the call runner (a health probe) is never retried.
 */
export function installRetries(instance: AxiosInstance, o: RetryPolicyOptions): void {
  axiosRetry(instance, {
    retries: o.retries,
    shouldResetTimeout: true,
    retryCondition: (error) => shouldRetry(error, o),
    retryDelay: (retryCount, error) => {
      const delay = retryDelay(o.backoff, retryCount, retryAfter(error), Math.random());
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

/**
 * The delay before retry `retry` (1 for the first): the backoff's, or the peer's `Retry-After` (in
 * milliseconds, 0 when absent) when that is longer, never more than `maxDelayMs`.
 */
export function retryDelay(backoff: ResolvedBackoff, retry: number, retryAfterMs: number, random: number): number {
  return Math.min(backoff.maxDelayMs, Math.max(backoffDelay(backoff, retry, random), retryAfterMs));
}

/**
 * The retry decision: the repeat-safety rule (`repeat-safety.ts`: the outcome and whether the call
 * is repeatable), the breaker (`attemptAllowed`), then the budget.
 */
function shouldRetry(error: AxiosError, o: RetryPolicyOptions): boolean {
  const state = callStateOf(error.config);
  if (!state || !attemptAllowed(state)) return false;
  if (!mayRepeat(error, state.spec.repeatable)) return false;
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
