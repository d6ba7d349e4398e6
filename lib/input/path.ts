import { HttpClientError } from '../errors/http-client.error';
import { InputError, isInputError } from './input.error';

/** A URL with a scheme (`http:`, `javascript:`), protocol-relative (`//host`) or starting with `\`. */
const ABSOLUTE_URL = /^([a-z][a-z0-9+.-]*:|\/\/|\\)/i;
/** `.` or `..` as a segment, also percent-encoded: URL parsers resolve them even then. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$|\?)/i;
/** A path must be printable ASCII: other characters go through `pathOf` (percent-encoded). */
const NOT_PRINTABLE_ASCII = /[^\x21-\x7e]/;

/**
 * Percent-encodes one path segment built from data (an item code, an id, a Dapr key) so that no
 * value can change the path or add a query: `/`, `?`, `#`, `%` and every other reserved character
 * is encoded. `.` and `..` (and their encoded forms) are refused because URL parsers resolve them
 * as "this" and "parent" segments even when encoded; an empty value is refused because it would
 * collapse into the neighbouring segments. Throws `HttpClientError` (`ERR_BAD_REQUEST_INPUT`).
 */
export function encodePathSegment(value: string | number): string {
  try {
    return segment(value);
  } catch (error) {
    if (!isInputError(error)) throw error;
    throw new HttpClientError(error.message, { method: '-', url: '-', attempts: 0, code: 'ERR_BAD_REQUEST_INPUT' });
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

/** `encodePathSegment` for the library's own request builders: throws `InputError`. */
export function segment(value: string | number): string {
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
 * Checks a caller's path relative to a base URL and returns it with a leading `/`. This is the one
 * place an absolute URL is refused: the transport joins the base URL and the path and never sends
 * anywhere else.
 */
export function checkRelativePath(path: unknown): string {
  if (typeof path !== 'string') throw new InputError(`path must be a string, got ${typeof path}`);
  if (ABSOLUTE_URL.test(path))
    throw new InputError('path must be relative to the service base URL (absolute URLs are refused)');
  if (/[\s#\\]/.test(path) || NOT_PRINTABLE_ASCII.test(path))
    throw new InputError(
      'path contains whitespace, "#", "\\", control or non-ASCII characters; encode values with pathOf',
    );
  if (DOT_SEGMENT.test(path)) throw new InputError('path contains a "." or ".." segment');
  return path.startsWith('/') || path.length === 0 ? path : `/${path}`;
}

function badSegment(value: string, why: string): InputError {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new InputError(`path value ${JSON.stringify(shown)} ${why}: it cannot be used as a path segment`);
}
