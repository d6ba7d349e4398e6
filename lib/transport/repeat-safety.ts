import { faultOf } from './adapter-fault';
import { classifyError } from './call-result';

/**
 * The repeat-safety rule: whether a call may be sent again, and whether a failed call's outcome
 * is unknown. One rule for every pooled client (REST peers and the sidecar); the retry condition
 * and the sidecar client read it, nothing else decides.
 *
 * A call is *repeatable* when sending it twice has the effect of sending it once: REST GET, HEAD,
 * OPTIONS, PUT, DELETE; a POST or PATCH the caller declares so (`idempotent: true`, or an
 * `Idempotency-Key` sent unchanged on every attempt); a sidecar read, a last-write save, a delete
 * without an ETag, a publish under a stable CloudEvent id. It is not repeatable otherwise: a POST,
 * a save with an ETag or `first-write` (the repeat meets the first write's new ETag and reports a
 * write that happened as a conflict), a delete with an ETag, a state transaction (an outbox store
 * publishes once per commit).
 *
 * - A repeatable call may go again after a timeout, a reset, an answer cut off, or a 429/502/503/504.
 * - Any call may go again when the attempt provably never left this process: the connection was
 *   never established (refused, DNS, unreachable, a deadline spent connecting or waiting for a
 *   pooled socket). A reset on a kept-alive socket is no such proof — the peer may have read the
 *   request and acted on it before the socket closed — so it is a reset like any other.
 * - A non-repeatable call that failed after it may have reached the other side (a timeout, a reset,
 *   an answer cut off) has an *unknown outcome*: it may have happened. It is never repeated, and
 *   never reported as a conflict or a success; the caller reads back to find out.
 */

/** Statuses that ask for another attempt (the peer or a proxy says "try again"). */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
/**
 * Codes that prove the request never left, from adapters that do not mark `not-connected`
 * themselves (the testing module's in-memory one).
 */
const NEVER_LEFT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Connection failures after which a repeatable call may go again. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/** Whether a failed attempt provably never left this process: nothing of it reached the other side. */
export function neverLeft(error: unknown): boolean {
  const fault = faultOf(error);
  if (fault === 'not-connected' || fault === 'not-sent') return true;
  const { kind, code } = classifyError(error);
  return kind === 'network' && NEVER_LEFT_CODES.has(code);
}

/** Whether the attempt that failed with `error` may be sent again, for a call that is (or is not) `repeatable`. */
export function mayRepeat(error: unknown, repeatable: boolean): boolean {
  const { kind, code, status } = classifyError(error);
  switch (kind) {
    case 'status':
      return repeatable && RETRY_STATUSES.has(status!);
    case 'timeout':
      return repeatable || neverLeft(error);
    case 'cut-off':
      return repeatable;
    case 'network':
      return neverLeft(error) || (repeatable && TRANSIENT_CODES.has(code));
    default:
      // too-large (the same answer would come back), not-sent (the caller's input), cancelled, internal
      return false;
  }
}

/**
 * Whether a failed attempt may have reached the other side without its answer reaching us: a
 * timeout, a reset or an answer cut off, unless it provably never left. (An answer with a status
 * is a known outcome; so is a call refused before sending.)
 */
export function mayHaveReached(error: unknown): boolean {
  const { kind } = classifyError(error);
  if (kind === 'cancelled') return faultOf(error) !== 'not-connected';
  if (kind !== 'timeout' && kind !== 'network' && kind !== 'cut-off') return false;
  return !neverLeft(error);
}
