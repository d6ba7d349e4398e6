import { Logger } from '@nestjs/common';
import { AxiosError, AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { attemptAllowed } from './breaker.interceptor';
import { CallEvents } from './call-events';
import { callStateOf } from './call-state';
import { mayRepeat } from './repeat-safety';
import { RetryBudget } from './retry-budget';

export interface RetryPolicyOptions {
  client: string;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  budget?: RetryBudget;
  events: CallEvents;
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
