import * as jwt from 'jsonwebtoken';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { AuthOptions, ServiceTokenOptions } from '../interfaces/auth-options.interface';
import { DEFAULTS } from './defaults';
import { renamedOption } from './deprecated-options';
import { ResolvedAuthOptions } from './resolved-options.interface';
import { headerValue, object, positiveInt } from './validators';

const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

/**
 * The shortest HMAC secret each algorithm takes, in bytes: the length of its hash (RFC 7518
 * §3.2: "a key of the same size as the hash output or larger MUST be used"). A shorter secret is
 * guessable offline from any one token the peers see.
 */
const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

/** What an asymmetric algorithm needs, for the message when the key does not fit it. */
const KEY_NEEDS: Record<string, string> = {
  RS: 'a PEM private RSA key of at least 2048 bits',
  ES256: 'a PEM private EC key on curve P-256',
  ES384: 'a PEM private EC key on curve P-384',
  ES512: 'a PEM private EC key on curve P-521',
};

/**
 * `auth.*`. A service token is checked whole at boot, so that a configuration that cannot make
 * one stops start-up naming the option rather than failing on the first call: the algorithm, the
 * lifetime, `issuer` (a non-empty string; `audience` is refused: see `createServiceToken`), an HMAC secret at least as long as the
 * algorithm's hash, and — for every algorithm — one token signed with the key, which proves the
 * key fits the algorithm (a string for RS256, a public key, an RSA key under 2048 bits, an EC key
 * on another curve). No message shows the secret.
 */
export function resolveAuth(o: AuthOptions): ResolvedAuthOptions {
  object('auth', o);
  const apiKey = o.apiKey === undefined ? undefined : headerValue('auth.apiKey', o.apiKey);
  const t = o.serviceToken;
  if (t === undefined) return { apiKey };
  object('auth.serviceToken', t, 'must be an object with a "secret"');
  const d = DEFAULTS.serviceToken;
  const algorithm = t.algorithm ?? d.algorithm;
  if (!JWT_ALGORITHMS.includes(algorithm)) {
    throw new InvalidOptionsError(
      'auth.serviceToken.algorithm',
      algorithm,
      `must be one of ${JWT_ALGORITHMS.join(', ')} ("none" is never allowed)`,
    );
  }
  const expiresInMs = positiveInt(
    'auth.serviceToken.expiresInMs',
    renamedOption('auth.serviceToken.expiresInSec', t.expiresInSec, 'auth.serviceToken.expiresInMs', t.expiresInMs, {
      convert: (option, value) => positiveInt(option, value) * 1000,
      how: 'in milliseconds: the old value × 1000',
    }) ?? d.expiresInMs,
  );
  if (expiresInMs < 1000 || expiresInMs > d.maxExpiresInMs) {
    throw new InvalidOptionsError(
      'auth.serviceToken.expiresInMs',
      expiresInMs,
      `must be from 1000 to ${d.maxExpiresInMs} (a second to an hour)`,
    );
  }
  if ('audience' in t && (t as { audience?: unknown }).audience !== undefined) {
    throw new InvalidOptionsError(
      'auth.serviceToken.audience',
      (t as { audience?: unknown }).audience,
      'is not an option: the Kugelpos services refuse a token with an "aud" claim ("Invalid audience"), so no ' +
        'token gets one unless its call asks for it; pass { audience } to createServiceToken() or ' +
        'serviceAuthHeaders() for a receiver that checks it',
    );
  }
  const issuer = claim('issuer', t.issuer);
  const secret = checkSecret(t.secret, algorithm);
  return { apiKey, serviceToken: { secret, algorithm, expiresInMs, issuer } };
}

/** `iss`: absent, or a non-empty string (jsonwebtoken would sign another type, or throw on the first call). */
function claim(name: 'issuer', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(`auth.serviceToken.${name}`, value, 'must be a non-empty string');
  }
  return value;
}

function checkSecret(secret: unknown, algorithm: NonNullable<ServiceTokenOptions['algorithm']>): string {
  const option = 'auth.serviceToken.secret';
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new InvalidOptionsError(option, secret, 'must be a non-empty string');
  }
  const min = HMAC_MIN_BYTES[algorithm];
  if (min !== undefined && Buffer.byteLength(secret, 'utf8') < min) {
    throw new InvalidOptionsError(
      option,
      secret,
      `must be at least ${min} bytes for ${algorithm} (the length of its hash, RFC 7518 §3.2)`,
    );
  }
  try {
    jwt.sign({ probe: true }, secret, { algorithm, expiresIn: 1 });
  } catch {
    // jsonwebtoken's and OpenSSL's words are not shown: they are about the key.
    const needs = min !== undefined ? 'a shared secret' : (KEY_NEEDS[algorithm] ?? KEY_NEEDS[algorithm.slice(0, 2)]);
    throw new InvalidOptionsError(option, secret, `must be ${needs} for ${algorithm}: signing a token with it failed`);
  }
  return secret;
}
