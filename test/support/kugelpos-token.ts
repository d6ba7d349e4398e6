import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The Kugelpos services' check of a bearer token, step for step, so that a test can put a token
 * through it without the Python services:
 *
 * 1. `jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])` of python-jose 3.5 with no expected
 *    audience, issuer or subject: the header's `alg` must be the one allowed, the HMAC signature
 *    must match; `iat`, `nbf` and `exp` must be what Python's `int()` takes (`exp` not past, `nbf`
 *    not ahead);
 *    **a token with any `aud` claim is refused ("Invalid audience")**, because the expected
 *    audience is none; `iss` is not checked; `sub` must be a string; `jti` too.
 * 2. `verify_token`: `sub` and `tenant_id` must be there; gives `username`, `tenant_id`,
 *    `is_superuser`, `is_service_account`, `service`.
 * 3. `verify_pubsub_notification_auth` (the delivery-status routes) accepts it only with
 *    `is_service_account` true.
 *
 * Throws `KugelposTokenError` with python-jose's message where the services answer 401.
 */
export function verifyLikeKugelpos(
  token: string,
  secret: string,
  algorithm: 'HS256' | 'HS384' | 'HS512' = 'HS256',
  now: Date = new Date(),
): KugelposUserInfo {
  const parts = token.split('.');
  if (parts.length !== 3) throw new KugelposTokenError('Not enough segments');
  const [headerB64, payloadB64, signatureB64] = parts;
  const header = parseJson(headerB64, 'Invalid header string');
  if (typeof header.alg !== 'string') throw new KugelposTokenError('No algorithm was specified in the JWS header.');
  if (header.alg !== algorithm) throw new KugelposTokenError('The specified alg value is not allowed');
  const hash = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[algorithm];
  const expected = createHmac(hash, secret).update(`${headerB64}.${payloadB64}`).digest();
  const given = Buffer.from(signatureB64, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new KugelposTokenError('Signature verification failed.');
  const claims = parseJson(payloadB64, 'Invalid payload string');
  const seconds = Math.floor(now.getTime() / 1000);
  const times: Partial<Record<'iat' | 'nbf' | 'exp', number>> = {};
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    if (!(name in claims)) continue;
    const value = pythonInt(claims[name]);
    if (value === undefined) throw new KugelposTokenError(`${CLAIM_NAMES[name]} claim (${name}) must be an integer.`);
    times[name] = value;
  }
  if (times.nbf !== undefined && times.nbf > seconds) throw new KugelposTokenError('The token is not yet valid (nbf)');
  if (times.exp !== undefined && times.exp < seconds) throw new KugelposTokenError('Signature has expired.');
  if ('aud' in claims) {
    const audiences = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
    if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== 'string'))
      throw new KugelposTokenError('Invalid claim format in token');
    // The expected audience is none (`audience=None`), which no audience list contains.
    throw new KugelposTokenError('Invalid audience');
  }
  if ('sub' in claims && typeof claims.sub !== 'string') throw new KugelposTokenError('Subject must be a string.');
  if ('jti' in claims && typeof claims.jti !== 'string') throw new KugelposTokenError('JWT ID must be a string.');
  if (claims.sub === undefined || claims.sub === null || claims.tenant_id === undefined || claims.tenant_id === null)
    throw new KugelposTokenError('Could not validate credentials');
  return {
    username: claims.sub as string,
    tenant_id: claims.tenant_id as string,
    is_superuser: (claims.is_superuser as boolean | undefined) ?? false,
    is_service_account: (claims.is_service_account as boolean | undefined) ?? false,
    service: (claims.service as string | undefined) ?? null,
  };
}

/** What `verify_token` returns. */
export interface KugelposUserInfo {
  username: string;
  tenant_id: string;
  is_superuser: boolean;
  is_service_account: boolean;
  service: string | null;
}

export class KugelposTokenError extends Error {
  override readonly name = 'KugelposTokenError';
}

const CLAIM_NAMES = { iat: 'Issued At', nbf: 'Not Before', exp: 'Expiration Time' };

/** Python's `int(value)` for a JSON value: a number truncated, a string of digits; else `undefined`. */
function pythonInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function parseJson(segment: string, why: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new KugelposTokenError(why);
}
