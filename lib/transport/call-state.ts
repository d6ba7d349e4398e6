import { AxiosError, AxiosRequestConfig } from 'axios';
import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';

/** What the runner knows about one logical call before it starts. */
export interface CallSpec {
  /** Route template for events, metrics and logs (`/tenants/:tenant/items/:code`). */
  route: string;
  /**
   * Sending the call twice has the effect of sending it once, so it may go again after it may have
   * reached the peer (a timeout, a reset, 429/502/503/504). See `repeat-safety.ts`.
   */
  repeatable: boolean;
  /** The breaker guarding the call, if any. */
  breaker?: CircuitBreaker;
  /**
   * The caller reads the answer's body only: of its headers, the call needs only those it reads
   * itself (`content-type` to parse the body, `retry-after` for the backoff); the others are not
   * handed to axios, which would normalise each one twice.
   */
  bodyOnly?: boolean;
}

/**
 * The state of one logical call, shared by all its attempts. It rides on the axios config under a
 * private key (axios' `mergeConfig` passes an unknown key's class instance through by reference,
 * the way axios-retry keeps its own state under `axios-retry`), so it never appears in axios'
 * public types; only `callStateOf` and `attachCallState` touch that key.
 */
export class CallState {
  /** Attempts handed to the adapter so far. */
  attempts = 0;
  /** The failure that led to the pending retry (what the call ends with if the retry is withheld). */
  lastFailure?: AxiosError;
  /** Backoff before the pending retry, for the `retryScheduled` event. */
  nextDelayMs = 0;

  constructor(readonly spec: CallSpec) {}

  /** Keeps a serialised axios error small: the breaker and its listeners are no one's business. */
  toJSON(): { route: string; attempts: number } {
    return { route: this.spec.route, attempts: this.attempts };
  }
}

const KEY = 'kugel-comms:call';

/** Puts `state` on `config` (before it is handed to axios). */
export function attachCallState(config: AxiosRequestConfig, state: CallState): void {
  (config as Record<string, unknown>)[KEY] = state;
}

/** The call state on an axios config, or `undefined` for requests made without the runner (health probes). */
export function callStateOf(config: AxiosRequestConfig | undefined): CallState | undefined {
  return config ? ((config as Record<string, unknown>)[KEY] as CallState | undefined) : undefined;
}
