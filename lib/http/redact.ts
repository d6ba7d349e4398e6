/** Header names whose values are credentials: never logged, never put in an error. */
export const SENSITIVE_HEADERS = ['x-api-key', 'authorization', 'dapr-api-token', 'cookie', 'proxy-authorization'];

const SENSITIVE_QUERY = /key|token|secret|pass|pwd|signature|auth|jwt|credential|session|sid/i;

/** The URL with sensitive query values replaced by `***` (for logs and errors). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        // keep the raw name
      }
      return SENSITIVE_QUERY.test(name) ? `${pair.slice(0, eq)}=***` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
