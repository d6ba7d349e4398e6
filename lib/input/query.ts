import { InputError } from './input.error';

export type QueryValue = string | number | boolean | Date | null | undefined;
export type QueryParams = Record<string, QueryValue | QueryValue[]>;

/**
 * `a=1&a=2&b=x`, every name and value percent-encoded: arrays become repeated keys, `null` and
 * `undefined` are left out, dates are sent as ISO text. `prefix` goes before every name (the
 * sidecar's `metadata.`). Throws `InputError` for a value of another type or text that cannot be
 * percent-encoded (a lone UTF-16 surrogate).
 */
export function buildQuery(params: QueryParams | undefined, prefix = ''): string {
  const parts: string[] = [];
  if (!params) return '';
  for (const [key, raw] of Object.entries(params)) {
    if (key.length === 0)
      throw new InputError(
        `${prefix ? `${prefix.replace(/\.$/, '')} keys` : 'query parameter names'} must be non-empty strings`,
      );
    const values = Array.isArray(raw) ? raw : [raw];
    for (const value of values) {
      if (value === undefined || value === null) continue;
      let text: string;
      if (value instanceof Date) text = value.toISOString();
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        text = String(value);
      else
        throw new InputError(
          `query parameter "${prefix}${key}" has a ${typeof value} value; use strings, numbers, booleans or dates`,
        );
      try {
        parts.push(`${prefix}${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
      } catch {
        throw new InputError(`query parameter "${prefix}${key}" is not valid Unicode text`);
      }
    }
  }
  return parts.join('&');
}

/** `path?query` or `path&query` when the path has a query already; `path` when the query is empty. */
export function withQuery(path: string, query: string): string {
  if (!query) return path;
  return path + (path.includes('?') ? '&' : '?') + query;
}
