import { InputError } from './input.error';

/** An HTTP token (RFC 9110), what a header name must be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const LINE_BREAK_OR_NUL = /[\r\n\0]/;
/** Characters Node's `http` writes in a header value (anything else throws inside `http.request`). */
const NOT_A_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Whether `name` can be a header name. */
export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/**
 * What is wrong with a header value, or `undefined` when HTTP can carry it: not a string, a CR,
 * LF or NUL (header injection), or a character Node cannot write. The value is never quoted: it
 * may be a credential.
 */
export function headerValueFault(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${typeof value}`;
  if (LINE_BREAK_OR_NUL.test(value)) return 'contains CR, LF or NUL';
  if (NOT_A_HEADER_VALUE.test(value)) return 'contains characters HTTP cannot carry';
  return undefined;
}

/**
 * What is wrong with one header of a caller's (`header "X-Note" contains CR, LF or NUL`, ...), or
 * `undefined` when HTTP can carry it.
 */
export function headerFault(name: string, value: unknown): string | undefined {
  if (!isHeaderName(name)) return `header name ${JSON.stringify(name.slice(0, 40))} is not a valid HTTP token`;
  const fault = headerValueFault(value);
  return fault === undefined ? undefined : `header "${name}" ${fault}`;
}

/** Checks a caller's headers; returns them without `undefined` values. Throws `InputError` (`headerFault`). */
export function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const fault = headerFault(name, value);
    if (fault) throw new InputError(fault);
    out[name] = value;
  }
  return out;
}

/** Whether `headers` has `name` (case-insensitive; `name` in lower case). */
export function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}

/** The value of `name` in `headers` (case-insensitive; `name` in lower case), or `undefined`. */
export function headerOf<T>(headers: Record<string, T>, name: string): T | undefined {
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return headers[key];
  return undefined;
}

/**
 * Headers (a plain object or axios' `AxiosHeaders`) as a flat record of strings: unset values
 * (`undefined`, `null`, `false`) and axios' per-method groups (`common`, `get`, ...) left out,
 * repeated values joined with `, `, names in lower case when `lowerCase` is set.
 */
export function flatHeaders(headers: unknown, lowerCase = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  const h = headers as Record<string, unknown>;
  const source = typeof h.toJSON === 'function' ? (h.toJSON as () => Record<string, unknown>)() : h;
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'object' && !Array.isArray(value)) continue;
    out[lowerCase ? name.toLowerCase() : name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
