import axios from 'axios';
import { faultOf } from './adapter-fault';

/**
 * What one logical call came to, after all its attempts: the one result both clients map
 * (`ServiceClient` → value or `HttpClientError`, `DaprClientHelper` → `DaprResult`).
 */
export type CallResult = CallSuccess | CallFailure;

export interface CallSuccess {
  ok: true;
  status: number;
  /** The parsed body (`undefined` when empty). */
  data: unknown;
  /** Response headers, names in lower case. */
  headers: Record<string, unknown>;
  attempts: number;
}

/**
 * How a call failed; the closed set every decision after the call reads (breaker verdict, log
 * level, the clients' messages):
 *
 * | kind | meaning |
 * |---|---|
 * | `status` | the peer answered with a status the call does not accept (≥ 300: no redirect is followed) |
 * | `unreadable` | a 2xx answer whose body cannot be parsed (malformed JSON under a JSON content type) |
 * | `too-large` | the answer is over `maxContentLength` |
 * | `cut-off` | the answer broke off after its headers |
 * | `not-sent` | refused on this side before anything was written (body over `maxBodyLength`, a value Node will not send) |
 * | `timeout` | an attempt passed its deadline |
 * | `cancelled` | the caller's `AbortSignal` fired |
 * | `network` | no answer: connection refused or reset, DNS, TLS |
 * | `circuit-open` | the breaker refused the call; nothing was sent |
 * | `internal` | an error that is not the call's (a bug); no verdict on the peer |
 */
export type FailureKind =
  | 'status'
  | 'unreadable'
  | 'too-large'
  | 'cut-off'
  | 'not-sent'
  | 'timeout'
  | 'cancelled'
  | 'network'
  | 'circuit-open'
  | 'internal';

export interface CallFailure {
  ok: false;
  kind: FailureKind;
  /**
   * The code callers see: Node's (`ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`), axios'
   * (`ECONNABORTED`, `ERR_CANCELED`, `ERR_BAD_RESPONSE`, `ERR_BAD_REQUEST`) or `ERR_CIRCUIT_OPEN`.
   */
  code: string;
  /** What went wrong, without the URL, headers or body (e.g. `connect ECONNREFUSED 127.0.0.1:4000`). */
  message: string;
  /** HTTP status, when the peer answered. */
  status?: number;
  /** The answer's parsed body (raw text, at most 1 KiB, when it does not parse), when there was one. */
  response?: unknown;
  /** The answer's headers, when there was one. */
  headers?: Record<string, unknown>;
  /** Attempts handed to the adapter (0 when the breaker refused the call). */
  attempts: number;
  /**
   * The last attempt may have reached the peer and its answer was lost (a timeout, a reset, an
   * answer cut off, after the connection was established): whether it took effect is unknown.
   * See `repeat-safety.ts`.
   */
  mayHaveReached?: boolean;
}

/** An error's kind, code and status (see `FailureKind`): the one classification of a failed attempt. */
export interface ErrorClass {
  kind: FailureKind;
  code: string;
  status?: number;
}

/** Classifies an error axios rejected with, by its code and the adapter's fault (never its message). */
export function classifyError(error: unknown): ErrorClass {
  if (!axios.isAxiosError(error) && !axios.isCancel(error)) {
    return { kind: 'internal', code: String((error as { code?: unknown })?.code ?? 'ERR_INTERNAL') };
  }
  const code = (error as { code?: string }).code ?? 'ERR_NETWORK';
  if (axios.isCancel(error) || code === 'ERR_CANCELED') return { kind: 'cancelled', code: 'ERR_CANCELED' };
  const fault = faultOf(error);
  if (fault === 'too-large' || fault === 'cut-off' || fault === 'not-sent') return { kind: fault, code };
  const status = error.response?.status;
  if (status !== undefined) return { kind: 'status', code, status };
  if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return { kind: 'timeout', code };
  return { kind: 'network', code };
}

/** How a body is read: `json` parses JSON content types only; `lenient` tries JSON on any text. */
export type BodyParsing = 'json' | 'lenient';

/**
 * Parses an answer's body. Empty → `undefined`; non-JSON text stays text. A body under a JSON
 * content type that is not JSON: `{ ok: false }` with the parser's message.
 */
export function parseBody(
  data: unknown,
  contentType: unknown,
  parsing: BodyParsing,
): { ok: true; value: unknown } | { ok: false; error: string } {
  if (typeof data !== 'string') return { ok: true, value: data };
  if (data.length === 0) return { ok: true, value: undefined };
  if (parsing === 'json' && !String(contentType ?? '').includes('json')) return { ok: true, value: data };
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch (error) {
    return parsing === 'json' ? { ok: false, error: (error as Error).message } : { ok: true, value: data };
  }
}
