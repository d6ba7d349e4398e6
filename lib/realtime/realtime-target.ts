import { isHttpClientError } from '../errors/http-client.error';
import { RealtimeError } from '../errors/realtime.error';
import { redactUrl } from '../common/redact';
import { discoverService, envVariableFor } from '../http/service-discovery';
import { isInputError } from '../input/input.error';
import { checkRelativePath } from '../input/path';
import { withQuery as appendQuery } from '../input/query';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';

/** Where a connection goes. */
export interface RealtimeTarget {
  service: string;
  /** `ws:` / `wss:` URL of the peer's base URL plus the path (with the path's own query, if any). */
  url: string;
  /** Where the base URL came from. */
  source: 'options' | 'env';
  insecureSkipTlsVerify: boolean;
}

/**
 * Finds `service` the way the REST client does (`services[name]`, then `BASE_URL_<NAME>`; exact
 * names) and derives the WebSocket URL from its base URL: `http:` → `ws:`, `https:` → `wss:`. The
 * path is checked like a REST path (`checkRelativePath`, the one REST uses): it can never leave the configured host
 * or go above the base path. Dapr service invocation is refused: the sidecar's invoke API does not
 * carry WebSocket upgrades.
 */
export function resolveRealtimeTarget(
  service: string,
  path: string,
  options: ResolvedKugelCommsOptions,
  env: NodeJS.ProcessEnv = process.env,
): RealtimeTarget {
  let found: ReturnType<typeof discoverService>;
  try {
    found = discoverService(service, options, env);
  } catch (error) {
    if (!isHttpClientError(error)) throw error;
    throw new RealtimeError(error.message, { code: error.code ?? 'ERR_UNKNOWN_SERVICE', service: String(service) });
  }
  if (found.source === 'dapr') {
    throw new RealtimeError(
      `service "${service}" is known only through Dapr service invocation, which does not carry WebSockets: ` +
        `set KugelCommsModule option services["${service}"] or the environment variable ${envVariableFor(service)}`,
      { code: 'ERR_UNKNOWN_SERVICE', service },
    );
  }
  let relative: string;
  try {
    relative = checkRelativePath(path);
  } catch (error) {
    if (!isInputError(error)) throw error;
    const shown = typeof path === 'string' ? redactUrl(path.length > 80 ? `${path.slice(0, 80)}…` : path) : '-';
    throw new RealtimeError(`connect ${service} ${JSON.stringify(shown)}: ${error.message} (nothing was sent)`, {
      code: 'ERR_BAD_REQUEST_INPUT',
      service,
    });
  }
  const base = found.options.baseUrl;
  const wsBase = base.startsWith('https:') ? `wss:${base.slice('https:'.length)}` : `ws:${base.slice('http:'.length)}`;
  const url = `${wsBase}${relative}`;
  // Belt and braces: what the checks let through must still be on the configured host.
  const parsed = new URL(url);
  if (parsed.host !== new URL(wsBase).host || !parsed.pathname.startsWith(new URL(wsBase).pathname)) {
    throw new RealtimeError(`connect ${service}: path leaves the service base URL (nothing was sent)`, {
      code: 'ERR_BAD_REQUEST_INPUT',
      service,
    });
  }
  return {
    service,
    url,
    source: found.source,
    insecureSkipTlsVerify: found.options.insecureSkipTlsVerify,
  };
}

/** `url` with `query` appended (percent-encoded by `URLSearchParams`). */
export function withQuery(url: string, query: Record<string, string> | undefined): string {
  return appendQuery(url, new URLSearchParams(query).toString());
}
