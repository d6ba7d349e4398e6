import { randomUUID } from 'node:crypto';
import { headerOf } from './headers';
import { InputError } from './input.error';

/** Printable ASCII: what a Structured Fields string may hold (RFC 9651 §3.3.3). */
const SF_STRING_CHARS = /^[\x20-\x7e]*$/;
const MAX_KEY_LENGTH = 255;

/**
 * The `Idempotency-Key` header of a call made with the `idempotencyKey` option (IETF httpapi
 * "The Idempotency-Key HTTP Header Field": the value is a Structured Fields string, so it is sent
 * quoted, e.g. `"8e03978e-40d5-43e8-bc93-6894a57f9324"`). `true` makes a random UUID; a string is
 * the caller's own key. The value is put in `headers` once, before the first attempt, so every
 * attempt of the call carries the same key. A caller's own `Idempotency-Key` header is kept as it
 * is (`true` then adds nothing); a different key in both places is refused. Returns whether the
 * call carries a key (which makes it repeatable). Throws `InputError` for a key HTTP or the
 * draft's string form cannot carry (the key is never quoted in the message).
 */
export function applyIdempotencyKey(option: unknown, headers: Record<string, string>): boolean {
  const own = headerOf(headers, 'idempotency-key');
  if (option === undefined || option === false) return own !== undefined;
  if (option !== true && typeof option !== 'string') {
    throw new InputError(`option idempotencyKey must be true or a string, got ${typeof option}`);
  }
  if (option === true) {
    if (own === undefined) headers['Idempotency-Key'] = quoted(randomUUID());
    return true;
  }
  if (option.length === 0 || option.length > MAX_KEY_LENGTH || !SF_STRING_CHARS.test(option)) {
    throw new InputError(`option idempotencyKey must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
  }
  const value = quoted(option);
  if (own !== undefined && own !== value && own !== option) {
    throw new InputError('option idempotencyKey differs from the Idempotency-Key header: give one of them');
  }
  if (own === undefined) headers['Idempotency-Key'] = value;
  return true;
}

/** A Structured Fields string: in double quotes, `\` and `"` escaped. */
function quoted(key: string): string {
  return `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
