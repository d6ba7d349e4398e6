import { AxiosAdapter, AxiosError, AxiosResponse, CanceledError, InternalAxiosRequestConfig } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { answerTooLargeError, bodyTooLargeError, settleStatus, timeoutError } from './adapter-errors';
import { withFault } from './adapter-fault';

export interface NodeHttpAdapterOptions {
  /**
   * Hand axios only these response headers (any case), read straight from Node's raw header list
   * (Node's header object is not built). Every header passed on costs axios work per response: it
   * builds its header object from the adapter's twice and normalises it twice, sanitising each
   * value with a regular expression (measured: about 2 µs a header, 10 µs for the five of a
   * sidecar's state read). A client that reads one header of the five need not pay for the other
   * four. Default: every header (`ServiceClient.request()` hands its caller all of them).
   */
  responseHeaders?: readonly string[];
  /**
   * Per request, the response headers to hand axios (names in lower case) instead of
   * `responseHeaders`; `undefined` keeps `responseHeaders`. A call whose caller reads only the
   * body needs no header but those the call itself reads.
   */
  responseHeadersOf?: (config: InternalAxiosRequestConfig) => ReadonlySet<string> | undefined;
}

/**
 * A lean axios adapter over `node:http` / `node:https` with the service's keep-alive agent.
 *
 * Why not axios' own http adapter: measured on this product's bench, it costs about twice the
 * time of the request itself (redirect machinery, stream pipelines, proxy and decompression
 * handling that service calls do not use). Redirects are never followed here, no proxy is taken
 * from the environment, and every request goes to `baseUrl`'s host, whatever the path: the path
 * is appended to the base path. axios, its interceptors and axios-retry run unchanged on top of
 * it; this adapter only moves bytes and names its failures:
 *
 * - the errors axios' adapter gives (`AxiosError` with the Node code, `ECONNABORTED` on timeout,
 *   `CanceledError` on abort, `ERR_BAD_RESPONSE` past `maxContentLength`), so callers see axios'
 *   codes;
 * - plus an `AdapterFault` (`adapter-fault.ts`) on the failures axios has no code of its own for,
 *   so the retry condition and the breaker decide by code, never by message text.
 *
 * Why not undici: see docs/benchmarks.md ("undici adapter").
 */
export function createNodeHttpAdapter(
  baseUrl: string,
  agent: http.Agent,
  options: NodeHttpAdapterOptions = {},
): AxiosAdapter {
  const base = new URL(baseUrl);
  const isHttps = base.protocol === 'https:';
  const request = isHttps ? https.request : http.request;
  const hostname = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = base.port ? Number(base.port) : isHttps ? 443 : 80;
  const basePath = base.pathname.replace(/\/+$/, '');
  const hostHeader = base.host;
  const keep = options.responseHeaders ? new Set(options.responseHeaders.map((h) => h.toLowerCase())) : undefined;

  return (config: InternalAxiosRequestConfig) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      const signal = config.signal as AbortSignal | undefined;
      if (signal?.aborted) {
        reject(withFault(new CanceledError(undefined, config), 'not-connected'));
        return;
      }

      const headers: http.OutgoingHttpHeaders = { host: hostHeader };
      const source = config.headers?.toJSON ? config.headers.toJSON() : (config.headers as Record<string, unknown>);
      for (const name in source) {
        const value = source[name];
        if (value !== undefined && value !== null && value !== false) headers[name] = value as string;
      }
      const body = config.data as string | Uint8Array | undefined;
      if (body !== undefined && body !== null) {
        const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
        if (config.maxBodyLength !== undefined && config.maxBodyLength > -1 && length > config.maxBodyLength) {
          reject(bodyTooLargeError(config));
          return;
        }
        headers['content-length'] = length;
      }

      let done = false;
      let deadline: NodeJS.Timeout | undefined;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        if (deadline) clearTimeout(deadline);
        if (signal) signal.removeEventListener('abort', onAbort);
        fn();
      };
      let req: http.ClientRequest;
      try {
        req = request({
          hostname,
          port,
          path: basePath + (config.url ?? ''),
          method: (config.method ?? 'get').toUpperCase(),
          headers,
          agent,
        });
      } catch (error) {
        // Node refuses some header values, paths and methods synchronously.
        const e = error as Error & { code?: string };
        finish(() => reject(withFault(AxiosError.from(e, e.code ?? AxiosError.ERR_BAD_REQUEST, config), 'not-sent')));
        return;
      }
      // Whether the attempt's connection was ever established: until then no byte of the request
      // has left this process (a kept-alive socket is connected when it is handed over).
      let connected = false;
      req.once('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once(isHttps ? 'secureConnect' : 'connect', () => (connected = true));
      });
      const onAbort = () => {
        req.destroy();
        finish(() => {
          const e = new CanceledError(undefined, config, req);
          reject(connected ? e : withFault(e, 'not-connected'));
        });
      };
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      const cutOff = () =>
        finish(() =>
          reject(
            withFault(new AxiosError('stream has been aborted', AxiosError.ERR_BAD_RESPONSE, config, req), 'cut-off'),
          ),
        );

      req.on('response', (res) => {
        const limit = config.maxContentLength ?? -1;
        const chunks: Buffer[] = [];
        let size = 0;
        // Reject before destroying: destroying emits 'aborted', which must not win the race.
        const tooLarge = () => {
          finish(() => reject(answerTooLargeError(config, req)));
          res.destroy();
          req.destroy();
        };
        // A declared length over the limit fails at once, without reading the body.
        // Read from the raw list: `res.headers` is built on first use, and a call that hands axios a
        // few headers only (`responseHeadersOf`) never needs it.
        if (limit > -1 && declaredLength(res.rawHeaders) > limit) return tooLarge();
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (limit > -1 && size > limit) return tooLarge();
          chunks.push(chunk);
        });
        res.on('error', (error: NodeJS.ErrnoException) => {
          finish(() => reject(withFault(AxiosError.from(error, error.code ?? 'ECONNRESET', config, req), 'cut-off')));
        });
        res.on('aborted', cutOff);
        res.on('end', () => {
          if (!res.complete) return cutOff();
          const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          const data = config.responseType === 'arraybuffer' ? raw : raw.toString('utf8');
          const status = res.statusCode ?? 0;
          const only = options.responseHeadersOf?.(config) ?? keep;
          const response: AxiosResponse = {
            data,
            status,
            statusText: res.statusMessage ?? '',
            headers: (only ? pickHeaders(res.rawHeaders, only) : res.headers) as AxiosResponse['headers'],
            config,
            request: req,
          };
          finish(() => {
            const settled = settleStatus(response, req);
            if (settled instanceof AxiosError) reject(settled);
            else resolve(settled);
          });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        finish(() => {
          const e = AxiosError.from(error, error.code, config, req);
          reject(connected ? e : withFault(e, 'not-connected'));
        });
      });
      if (config.timeout) {
        // A deadline for the whole attempt (waiting for a pooled socket, connecting, and reading
        // the last byte), not `req.setTimeout`'s idle timer: a peer that trickles a byte now and
        // then would otherwise hold the caller for as long as it likes.
        deadline = setTimeout(() => {
          finish(() => {
            const e = timeoutError(config, req);
            reject(connected ? e : withFault(e, 'not-connected'));
          });
          req.destroy();
        }, config.timeout);
      }
      if (body !== undefined && body !== null) req.end(body);
      else req.end();
    });
}

/** The response headers named in `keep`, from Node's raw `[name, value, ...]` list (repeats joined with ", "). */
function pickHeaders(raw: string[], keep: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!keep.has(name)) continue;
    out[name] = out[name] === undefined ? raw[i + 1] : `${out[name]}, ${raw[i + 1]}`;
  }
  return out;
}

/** The `Content-Length` in Node's raw `[name, value, ...]` list (0 when absent). */
function declaredLength(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]);
  }
  return 0;
}
