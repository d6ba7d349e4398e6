import { HttpClientError } from '../errors/http-client.error';

/**
 * Percent-encodes one path segment built from data (an item code, an id, a Dapr key) so that no
 * value can change the path or add a query: `/`, `?`, `#`, `%` and every other reserved character
 * is encoded. `.` and `..` (and their encoded forms) are refused because URL parsers resolve them
 * as "this" and "parent" segments even when encoded; an empty value is refused because it would
 * collapse into the neighbouring segments.
 */
export function encodePathSegment(value: string | number): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badSegment(String(value), 'is not a finite number');
    return String(value);
  }
  if (typeof value !== 'string') throw badSegment(String(value), `is a ${typeof value}, not a string or number`);
  if (value.length === 0) throw badSegment(value, 'is empty');
  if (value === '.' || value === '..') throw badSegment(value, 'is a dot segment');
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone UTF-16 surrogate cannot be percent-encoded.
    throw badSegment(value, 'is not valid Unicode text');
  }
}

/**
 * Tagged template that encodes every interpolated value as one path segment:
 * ``pathOf`/tenants/${tenant}/items/${code}/details` ``.
 */
export function pathOf(strings: TemplateStringsArray, ...values: Array<string | number>): string {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) {
    out += encodePathSegment(values[i]) + strings[i + 1];
  }
  return out;
}

function badSegment(value: string, why: string): HttpClientError {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new HttpClientError(`path value ${JSON.stringify(shown)} ${why}: it cannot be used as a path segment`, {
    method: '-',
    url: '-',
    attempts: 0,
    code: 'ERR_BAD_REQUEST_INPUT',
  });
}

const ABSOLUTE_URL = /^([a-z][a-z0-9+.-]*:|\/\/|\\)/i;
/** A path must be printable ASCII: other characters go through `pathOf` (percent-encoded). */
const NOT_PRINTABLE_ASCII = /[^\x21-\x7e]/;
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$|\?)/i;

/**
 * Why `path` cannot be appended to a service's base URL, or `undefined` when it can: a path stays
 * on the configured host and under its base path. Refused: absolute URLs (`http:`, `ws:`, `//host`,
 * `\`), whitespace, `#`, `\`, control and non-ASCII characters (encode values with `pathOf`), and
 * `.`/`..` segments (plain or percent-encoded). Used by the REST and the WebSocket clients alike.
 */
export function relativePathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string') return `path must be a string, got ${typeof path}`;
  if (ABSOLUTE_URL.test(path)) return 'path must be relative to the service base URL (absolute URLs are refused)';
  if (/[\s#\\]/.test(path) || NOT_PRINTABLE_ASCII.test(path))
    return 'path contains whitespace, "#", "\\", control or non-ASCII characters; encode values with pathOf';
  if (DOT_SEGMENT.test(path)) return 'path contains a "." or ".." segment';
  return undefined;
}
