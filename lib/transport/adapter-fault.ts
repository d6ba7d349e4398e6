import { AxiosError } from 'axios';

/**
 * Failures the node:http adapter names itself, for the retry condition and the breaker to read
 * (never the error's message text). The error keeps axios' own `code` (`ERR_BAD_RESPONSE`, Node's
 * `ECONNRESET`, ...) for callers; the fault says what happened:
 *
 * - `cut-off`: the response stream ended or broke after the headers (the peer received the
 *   request: only an idempotent call may go again);
 * - `too-large`: the answer is over `maxContentLength` (the peer is alive; the same answer would
 *   come back);
 * - `not-sent`: refused on this side before anything was written (a body over `maxBodyLength`, a
 *   header value, path or method Node will not send): the caller's input, no verdict on the peer;
 * - `stale-socket`: a kept-alive socket the server had closed as it was reused (Node marks the
 *   request `reusedSocket`): the request never reached the application, any method may go again.
 */
export type AdapterFault = 'cut-off' | 'too-large' | 'not-sent' | 'stale-socket';

const FAULT = 'kugelCommsFault';

/** Marks `error` with `fault` (a non-enumerable property: it stays out of logs and JSON). */
export function withFault<E extends AxiosError>(error: E, fault: AdapterFault): E {
  Object.defineProperty(error, FAULT, { value: fault, enumerable: false });
  return error;
}

/** The fault the adapter gave `error`, if any. */
export function faultOf(error: unknown): AdapterFault | undefined {
  return typeof error === 'object' && error !== null
    ? ((error as Record<string, unknown>)[FAULT] as AdapterFault | undefined)
    : undefined;
}
