import { AxiosAdapter, AxiosError, AxiosResponse, CanceledError, InternalAxiosRequestConfig } from 'axios';
import { flatHeaders } from '../input/headers';
import { answerTooLargeError, bodyTooLargeError, settleStatus, timeoutError } from '../transport/adapter-errors';

/** One request as an in-memory peer or sidecar sees it. */
export interface InMemoryRequest {
  /** Upper case. */
  method: string;
  /** The path as sent (percent-encoded), without the query. */
  path: string;
  query: URLSearchParams;
  /** Names in lower case. */
  headers: Record<string, string>;
  /** The body as text, when there is one. */
  body?: string;
}

/** Network failures an in-memory answer can stand for. */
export type InMemoryFault = 'ECONNREFUSED' | 'ECONNRESET' | 'timeout';

/** What an in-memory peer or sidecar answers: an HTTP answer, or a network failure. */
export type InMemoryAnswer =
  { status: number; headers?: Record<string, string>; body?: string } | { fault: InMemoryFault };

/**
 * An axios adapter that answers from memory instead of a socket, giving axios what the node:http
 * adapter gives for the same answer: the body as text, `validateStatus` applied, `maxBodyLength`
 * and `maxContentLength` enforced, axios' codes for a refused or reset connection and a timeout
 * (`ECONNABORTED`), `CanceledError` on abort. So the call runner, axios-retry and the breaker
 * treat an in-memory answer exactly as a network one. An error thrown by `answer` is passed on as
 * it is (the runner reports it as the call's failure, with its `code`).
 */
export function inMemoryAdapter(answer: (request: InMemoryRequest) => InMemoryAnswer | Promise<InMemoryAnswer>) {
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    const signal = config.signal as AbortSignal | undefined;
    if (signal?.aborted) throw new CanceledError(undefined, config);
    const body = bodyText(config.data);
    if (body !== undefined && config.maxBodyLength !== undefined && config.maxBodyLength > -1) {
      if (Buffer.byteLength(body) > config.maxBodyLength) throw bodyTooLargeError(config);
    }
    const url = config.url ?? '';
    const q = url.indexOf('?');
    const request: InMemoryRequest = {
      method: (config.method ?? 'get').toUpperCase(),
      path: q < 0 ? url : url.slice(0, q),
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      headers: flatHeaders(config.headers, true),
      body,
    };
    const got = await untilAborted(
      Promise.resolve().then(() => answer(request)),
      config,
      signal,
    );
    if ('fault' in got) throw faultError(got.fault, config);
    const text = got.body ?? '';
    const limit = config.maxContentLength ?? -1;
    if (limit > -1 && Buffer.byteLength(text) > limit) throw answerTooLargeError(config);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(got.headers ?? {})) headers[name.toLowerCase()] = value;
    const settled = settleStatus({ data: text, status: got.status, statusText: '', headers, config });
    if (settled instanceof AxiosError) throw settled;
    return settled;
  };
  return adapter;
}

/** The answer, or `CanceledError` when the call is aborted first, or `ECONNABORTED` past the timeout. */
function untilAborted<T>(
  answer: Promise<T>,
  config: InternalAxiosRequestConfig,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal && !config.timeout) return answer;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new CanceledError(undefined, config));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (config.timeout) {
      timer = setTimeout(() => {
        done();
        reject(faultError('timeout', config));
      }, config.timeout);
    }
    answer.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error as Error);
      },
    );
  });
}

function faultError(fault: InMemoryFault, config: InternalAxiosRequestConfig): AxiosError {
  if (fault === 'timeout') return timeoutError(config);
  const message = fault === 'ECONNREFUSED' ? 'connect ECONNREFUSED (in memory)' : 'socket hang up (in memory)';
  return new AxiosError(message, fault, config);
}

function bodyText(data: unknown): string | undefined {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return String(data);
}
