/**
 * The one rule for what holds a credential, applied to query parameter names in URLs that are
 * logged or put in errors, and to option names in `InvalidOptionsError`: a name containing `key`,
 * `token`, `secret`, `pass`, `pwd`, `signature`, `auth`, `jwt`, `credential`, `session` or
 * `cookie`, or the word `sid` or `sig` (a SAS token's `?sig=`; not `inside`, `signal`, `design`).
 * Header values are never logged at all.
 */
const SECRET_NAME =
  /key|token|secret|pass|pwd|signature|auth|jwt|credential|session|cookie|(^|[^a-z])(sid|sig)([^a-z]|$)/i;

/** Whether a query parameter or option named `name` may hold a credential (see `SECRET_NAME`). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The URL (absolute, or a path with a query) with its userinfo shown as `***@` and the values of
 * query parameters with secret names (`isSecretName`) as `***`, for logs and errors. A fragment is
 * read like a query (`#access_token=...&token_type=bearer`, as OAuth's implicit flow sends it) and
 * its secret-named values are hidden alike.
 */
export function redactUrl(url: string): string {
  let safe = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  let fragment = '';
  const h = safe.indexOf('#');
  if (h >= 0) {
    fragment = `#${redactPairs(safe.slice(h + 1))}`;
    safe = safe.slice(0, h);
  }
  const q = safe.indexOf('?');
  if (q < 0) return safe + fragment;
  return `${safe.slice(0, q)}?${redactPairs(safe.slice(q + 1))}${fragment}`;
}

/** `name=value&...` with the values of secret-named pairs as `***`. */
function redactPairs(pairs: string): string {
  return pairs
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair; // a name alone (`?verbose`): no value to hide
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return isSecretName(name) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join('&');
}
