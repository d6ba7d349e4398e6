import { CircuitPermit } from '../circuit-breaker/circuit-breaker';
import { redactUrl } from '../common/redact';
import { RealtimeError } from '../errors/realtime.error';

/**
 * The `RealtimeError` code and text for an error `ws` emitted with Node/`ws` code `code`:
 * `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH` (over `maxPayload`, closed with 1009) → `ERR_MESSAGE_TOO_LARGE`;
 * other `WS_ERR_*` (invalid frames, closed with 1002/1007) → `ERR_PROTOCOL`; a network code
 * (`ECONNREFUSED`, ...) as is; no code → `ERR_HANDSHAKE` before the opening (`ws` gives a bad
 * `Sec-WebSocket-Accept` or a missing `Upgrade` no code), `ERR_PROTOCOL` after it.
 */
export function classifySocketError(
  code: string | undefined,
  opened: boolean,
  maxMessageBytes: number,
): { code: string; why: string } {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    return {
      code: 'ERR_MESSAGE_TOO_LARGE',
      why: `the peer sent a message over maxMessageBytes (${maxMessageBytes}): closed with 1009`,
    };
  }
  if (code?.startsWith('WS_ERR_')) {
    return { code: 'ERR_PROTOCOL', why: `the peer sent an invalid frame (${code}): connection closed` };
  }
  if (code) return { code, why: `connection failed: ${code}` };
  return opened
    ? { code: 'ERR_PROTOCOL', why: 'connection failed' }
    : { code: 'ERR_HANDSHAKE', why: 'handshake failed' };
}

/**
 * A plain Error with the message and code of `error` (the raw URL, which may carry a token, replaced
 * by the redacted one): never the `ws` or `http` error itself, whose request holds the headers.
 */
export function plainCause(error: unknown, rawUrl?: string): Error {
  const e = (error ?? {}) as { message?: string; name?: string; code?: string };
  let message = String(e.message ?? error);
  if (rawUrl) message = message.split(rawUrl).join(redactUrl(rawUrl));
  const cause = new Error(message) as Error & { code?: string };
  if (e.name) cause.name = e.name;
  if (e.code) cause.code = e.code;
  return cause;
}

/**
 * Gives an attempt's breaker permit its verdict once the socket closed: no failure → released
 * (nothing learnt); a 4xx answer → success (credentials or path are the caller's problem, not the
 * peer's); any other failure → failure.
 */
export function settlePermit(permit: CircuitPermit | undefined, failure: RealtimeError | undefined): void {
  if (!permit) return;
  if (!failure) permit.release();
  else if (failure.statusCode !== undefined && failure.statusCode < 500) permit.success();
  else permit.failure();
}
