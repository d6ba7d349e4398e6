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
 * Checks a caller's headers; returns them without `undefined` values. Throws `InputError`
 * (`header "X-Note" contains CR, LF or NUL`, ...).
 */
export function checkHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (!isHeaderName(name))
      throw new InputError(`header name ${JSON.stringify(name.slice(0, 40))} is not a valid HTTP token`);
    const fault = headerValueFault(value);
    if (fault) throw new InputError(`header "${name}" ${fault}`);
    out[name] = value;
  }
  return out;
}

/** Whether `headers` has `name` (case-insensitive). */
export function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return true;
  return false;
}
