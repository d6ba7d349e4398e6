import { AxiosError } from 'axios';

/**
 * Failures the node:http adapter names itself, for the retry condition and the breaker to read
 * (never the error's message text). The error keeps axios' own `code` (`ERR_BAD_RESPONSE`, Node's
 * `ECONNRESET`, ...) for callers; the fault says what happened:
 *
 * - `cut-off`: the response stream ended or broke after the headers (the peer received the
 *   request: only a repeatable call may go again);
 * - `too-large`: the answer is over `maxContentLength` (the peer is alive; the same answer would
 *   come back);
 * - `not-sent`: refused on this side before anything was written (a body over `maxBodyLength`, a
 *   header value, path or method Node will not send): the caller's input, no verdict on the peer;
 * - `not-connected`: the attempt failed (an error, or its deadline) before its connection was
 *   established — a refused or unreachable connect, DNS, a TLS handshake that failed, a deadline
 *   spent waiting for a pooled socket or the connect: no byte of the request left this process,
 *   so any call may go again. A reset on a kept-alive socket is not this: that socket was
 *   connected, the request may have been read and acted on before the peer closed it.
 */
export type AdapterFault = 'cut-off' | 'too-large' | 'not-sent' | 'not-connected';

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
