// `ttlInSeconds`, checked before it is sent: the forms daprd refuses, or silently ignores, never leave.
import { InputError } from '../input/input.error';

/** The metadata key of a time to live, for state writes and publishes alike. */
export const TTL_KEY = 'ttlInSeconds';

/** The largest TTL every state store takes (PostgreSQL refuses more; the others are int64). */
const MAX_STATE_TTL = 2_147_483_647;

/** A Go duration (`time.ParseDuration`) of a positive length: `90s`, `1h30m`, `1.5m`. */
const GO_DURATION = /^((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/;

/**
 * A state write's `ttlInSeconds`: a whole number of seconds from -1 to 2147483647, as a number or
 * decimal digits. Each store parses it with Go's integer parser and fails the write otherwise
 * (daprd v1.18: 500 `ERR_STATE_SAVE` / `ERR_STATE_TRANSACTION`, which the store's breaker counts
 * as a failure): `1.5`, `'abc'`, `'1e2'`. 0 and -1 mean "never expires" on every store (-1 is
 * Dapr's documented way to keep a key past a component-wide default TTL); PostgreSQL refuses
 * anything below -1, so other negatives are refused here for every store. Throws `InputError`.
 */
export function checkStateTtl(metadata: Record<string, unknown> | undefined, what: string): void {
  const value = metadata?.[TTL_KEY];
  if (value === undefined) return;
  const n = wholeNumber(value);
  if (n === undefined || n < -1 || n > MAX_STATE_TTL) {
    throw new InputError(
      `${what}.${TTL_KEY} must be a whole number of seconds from -1 (never expires; 0 too) to ${MAX_STATE_TTL}, ` +
        `got ${show(value)}: the state store would refuse the write`,
    );
  }
}

/**
 * A publish's `ttlInSeconds`: a whole number of seconds ≥ 1, or a Go duration (`'90s'`). daprd
 * reads it when it makes the CloudEvent (its `expiration`) and ignores a value it cannot read
 * without a word — `0`, `-5`, `1.5`, `'abc'` all publish an event that never expires — so those
 * are refused here. Throws `InputError`.
 */
export function checkPublishTtl(metadata: Record<string, unknown> | undefined, what: string): void {
  const value = metadata?.[TTL_KEY];
  if (value === undefined) return;
  const n = wholeNumber(value);
  if (n !== undefined ? n >= 1 && Number.isSafeInteger(n) : typeof value === 'string' && GO_DURATION.test(value)) {
    return;
  }
  throw new InputError(
    `${what}.${TTL_KEY} must be a whole number of seconds ≥ 1 or a duration such as "90s", got ${show(value)}: ` +
      'daprd would publish the event without any expiry',
  );
}

/** The value as a whole number when it is one (a number, or optional `-` and decimal digits). */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return Number(value);
  return undefined;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : `a ${typeof value}`;
}
