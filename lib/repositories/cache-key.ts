import { createHash } from 'node:crypto';

/**
 * Who a cached answer was fetched for: a digest of the terminal's JWT or API key (never the
 * credential itself). Part of every cache key, so an entry — and a load in flight — is shared only
 * by callers presenting the same credential: a hit never skips the peer's check of a credential
 * it has not accepted, and one caller's 401 never reaches another.
 */
export function credentialOf(context: { jwtToken?: string; apiKey?: string }): string {
  const secret = context.jwtToken ? `jwt:${context.jwtToken}` : context.apiKey ? `key:${context.apiKey}` : 'none';
  return createHash('sha256').update(secret).digest('base64url').slice(0, 22);
}

/** A cache key from its parts; JSON keeps `("a|b", "c")` and `("a", "b|c")` apart. */
export function cacheKey(...parts: Array<string | number | undefined>): string {
  return JSON.stringify(parts.map((p) => (p === undefined ? null : p)));
}
