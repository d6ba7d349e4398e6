// An axios adapter over an undici Pool, measured against kugel's node:http adapter (see
// docs/benchmarks.md, "undici adapter"). Bench-only: it has what the per-request cost depends on
// (the pool bounded by `connections`, idle sockets retired, a deadline for the whole attempt,
// abort, the response size limit, no redirects), not the failure classification the library's
// adapter gives (cut-off, too-large, not-sent, stale-socket faults).
import { Logger } from '@nestjs/common';
import {
  AxiosAdapter,
  AxiosError,
  AxiosResponse,
  CanceledError,
  InternalAxiosRequestConfig,
  isAxiosError,
} from 'axios';
import { Pool } from 'undici';
import { KugelCommsEvents, ServiceClient } from '../lib';
import { DEFAULTS } from '../lib/options/defaults';
import { callStateOf } from '../lib/transport/call-state';
import { RetryBudget } from '../lib/transport/retry-budget';
import { createTransport } from '../lib/transport/transport';

export function createUndiciAdapter(
  baseUrl: string,
  o: { connections: number; keepAliveTimeoutMs: number },
): { adapter: AxiosAdapter; close: () => Promise<void> } {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    keepAliveMaxTimeout: o.keepAliveTimeoutMs,
  });

  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const signal = config.signal as AbortSignal | undefined;
    if (signal?.aborted) throw new CanceledError(undefined, config);
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const deadline = config.timeout
      ? setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, config.timeout)
      : undefined;
    try {
      const headers: Record<string, string> = {};
      const source = config.headers?.toJSON ? config.headers.toJSON() : (config.headers as Record<string, unknown>);
      for (const name in source) {
        const value = source[name];
        if (value !== undefined && value !== null && value !== false) headers[name] = String(value);
      }
      const res = await pool.request({
        path: basePath + (config.url ?? ''),
        method: (config.method ?? 'get').toUpperCase() as 'GET',
        headers,
        body: config.data as string | Uint8Array | undefined,
        signal: ac.signal,
      });
      const limit = config.maxContentLength ?? -1;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (limit > -1 && size > limit) {
          res.body.destroy();
          throw new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE, config);
        }
        chunks.push(chunk as Buffer);
      }
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const response: AxiosResponse = {
        data: raw.toString('utf8'),
        status: res.statusCode,
        statusText: '',
        headers: res.headers as AxiosResponse['headers'],
        config,
        request: {},
      };
      if (!config.validateStatus || config.validateStatus(res.statusCode)) return response;
      const code = res.statusCode < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
      throw new AxiosError(`Request failed with status code ${res.statusCode}`, code, config, undefined, response);
    } catch (error) {
      if (isAxiosError(error)) throw error;
      if (timedOut) throw new AxiosError(`timeout of ${config.timeout}ms exceeded`, 'ECONNABORTED', config);
      if (signal?.aborted) throw new CanceledError(undefined, config);
      const e = error as Error & { code?: string };
      throw AxiosError.from(e, e.code === 'UND_ERR_SOCKET' ? 'ECONNRESET' : e.code, config);
    } finally {
      if (deadline) clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
    }
  };
  return { adapter, close: () => pool.close() };
}

/**
 * A `ServiceClient` with kugel's defaults (3 retries, retry budget, 64 sockets, 4 s idle timeout,
 * 30 s timeout) whose transport runs on the undici adapter: the call runner, axios and axios-retry
 * as in `HttpClientHelper`, only the adapter differs.
 */
export function kugelOnUndici(baseUrl: string): {
  client: ServiceClient;
  adapter: AxiosAdapter;
  close: () => Promise<void>;
} {
  const events = new KugelCommsEvents();
  const transport = createTransport({
    ...DEFAULTS.http,
    client: 'peer',
    baseUrl,
    budget: new RetryBudget(DEFAULTS.retryBudget),
    breakerGuard: false,
    parsing: 'json',
    propagateTrace: true,
    events,
    logger: new Logger('undici'),
  });
  const undici = createUndiciAdapter(baseUrl, {
    connections: DEFAULTS.http.maxSockets,
    keepAliveTimeoutMs: DEFAULTS.http.idleSocketTimeoutMs,
  });
  // The transport's adapter counts each call's attempts; so does this one.
  transport.axios.defaults.adapter = (config) => {
    const state = callStateOf(config);
    if (state) state.attempts += 1;
    return undici.adapter(config);
  };
  return {
    client: new ServiceClient('peer', baseUrl, transport.runner),
    adapter: undici.adapter,
    close: async () => {
      transport.destroy();
      await undici.close();
    },
  };
}
