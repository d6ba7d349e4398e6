import { apiKeyHeaders, bearerHeaders } from '../auth/auth-headers';
import { ServiceTokenService } from '../auth/service-token.service';
import { untilAborted } from '../common/abandonable';
import { isRealtimeError, RealtimeError } from '../errors/realtime.error';
import { PerAttempt, RealtimeAuth, RealtimeConnectOptions } from './realtime-connect-options.interface';
import { ConnectionSetup, Handshake } from './realtime-connection.interface';
import { SocketHooks } from './socket-hooks.interface';

/**
 * Checks the auth, header and query options of `connect()` and returns the function that builds
 * them before every attempt: a function-valued option is called again each time, and a service
 * token is minted again each time, so a reconnect never sends an expired token. Throws
 * `RealtimeError` (`ERR_BAD_REQUEST_INPUT`) for options that can never work; values are never
 * quoted (they may be credentials).
 */
export function handshakeBuilder(
  service: string,
  options: RealtimeConnectOptions,
  tokens: ServiceTokenService,
  configuredApiKey: string | undefined,
): () => Promise<Handshake> {
  const bad = (why: string) =>
    new RealtimeError(`connect ${service}: ${why} (nothing was sent)`, { code: 'ERR_BAD_REQUEST_INPUT', service });
  const auth = authHeaders(options.auth, configuredApiKey, tokens, bad);
  const headers = options.headers;
  const query = options.query;
  if (headers !== undefined && typeof headers !== 'function') stringRecord('headers', headers, bad);
  if (query !== undefined && typeof query !== 'function') stringRecord('query', query, bad);
  return async () => ({
    headers: { ...stringRecord('headers', await evaluate(headers), bad), ...(await auth()) },
    query: stringRecord('query', await evaluate(query), bad),
  });
}

/**
 * Makes one attempt's headers and query with the app's functions (`setup.handshake`), waiting only
 * until `signal` aborts: the attempt's deadline (it aborts with `ERR_HANDSHAKE_TIMEOUT`) or
 * `close()` (`closing()` is then true). Resolves `undefined` when they failed or were given up;
 * a failure or a timeout is reported through `hooks.failed` (WARN), a close only logged. A
 * function that settles after it was given up is logged at DEBUG; its value is never sent.
 */
export async function makeHandshake(
  setup: Pick<ConnectionSetup, 'handshake' | 'logger'>,
  hooks: Pick<SocketHooks, 'failed' | 'error'>,
  signal: AbortSignal,
  closing: () => boolean,
): Promise<Handshake | undefined> {
  try {
    return await untilAborted(setup.handshake(), signal, (late) =>
      setup.logger.debug(`abandoned handshake credentials ${late.ok ? 'were made' : 'failed'} late; not used`),
    );
  } catch (error) {
    if (closing()) {
      setup.logger.warn('closed while the handshake credentials were being made: abandoned (nothing was sent)');
      return undefined;
    }
    const e = isRealtimeError(error)
      ? error
      : hooks.error('ERR_AUTH', `the handshake credentials could not be made: ${(error as Error)?.message}`);
    hooks.failed(e, 'warn');
    return undefined;
  }
}

function authHeaders(
  auth: RealtimeAuth | undefined,
  configuredApiKey: string | undefined,
  tokens: ServiceTokenService,
  bad: (why: string) => RealtimeError,
): () => Promise<Record<string, string>> {
  if (auth === undefined) return async () => ({});
  if (typeof auth !== 'object' || auth === null) throw bad('option auth must be an object');
  if ('apiKey' in auth) {
    const key = auth.apiKey === true ? configuredApiKey : auth.apiKey;
    if (typeof key !== 'string' || key.length === 0) {
      throw bad(
        auth.apiKey === true
          ? 'auth { apiKey: true } needs the KugelCommsModule option auth.apiKey'
          : 'auth.apiKey must be true or a non-empty string',
      );
    }
    const headers = apiKeyHeaders(key);
    return async () => headers;
  }
  if ('bearer' in auth) {
    const bearer = auth.bearer;
    if (typeof bearer !== 'function' && (typeof bearer !== 'string' || bearer.length === 0)) {
      throw bad('auth.bearer must be a non-empty string or a function returning one');
    }
    return async () => {
      const token = await evaluate(bearer);
      if (typeof token !== 'string' || token.length === 0) throw bad('auth.bearer gave no token');
      return bearerHeaders(token);
    };
  }
  if ('serviceToken' in auth) {
    const t = auth.serviceToken;
    if (typeof t !== 'object' || t === null || typeof t.tenantId !== 'string' || typeof t.serviceName !== 'string') {
      throw bad('auth.serviceToken must be { tenantId: string, serviceName: string }');
    }
    return async () => tokens.serviceAuthHeaders(t.tenantId, t.serviceName);
  }
  throw bad('option auth must be { apiKey }, { bearer } or { serviceToken }');
}

async function evaluate<T>(value: PerAttempt<T> | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : value;
}

function stringRecord(name: string, value: unknown, bad: (why: string) => RealtimeError): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(`option ${name} must be an object (or a function returning one)`);
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw bad(`${name} "${key}" must be a string, number or boolean, got ${v === null ? 'null' : typeof v}`);
    }
    out[key] = String(v);
  }
  return out;
}
