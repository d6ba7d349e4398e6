import { InvalidOptionsError } from '../errors/invalid-options.error';
import { headerValueFault } from '../input/headers';

/** The longest delay Node.js timers accept (2^31 − 1 ms); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
const TIMER_LIMIT = 'about 24.8 days, the longest timer Node.js keeps';

/** A service or Dapr component name: letters, digits, `.`, `_`, `-`, not starting with a symbol. */
export const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** An absolute http(s) URL without credentials, query or fragment; returned without trailing `/`. */
export function checkBaseUrl(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionsError(option, value, 'must be an http(s) URL string');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionsError(option, value, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionsError(option, value, 'must use http: or https:');
  }
  if (url.username || url.password) {
    // The message shows the URL with its userinfo as `***@`.
    throw new InvalidOptionsError(option, value, 'must not carry credentials (use auth options)');
  }
  if (url.search || url.hash) {
    throw new InvalidOptionsError(option, value, 'must not have a query or fragment');
  }
  return value.replace(/\/+$/, '');
}

/**
 * A health probe's timeout: a finite number of ms from 1 up (rounded up to a whole ms, and at most
 * what a timer holds), else `fallback`. A probe is never open-ended, and a health check never
 * throws for its own argument: 0, a negative value, `NaN`, `Infinity` or a non-number take the default.
 */
export function probeTimeoutMs(value: unknown, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) return fallback;
  return Math.min(Math.ceil(value), MAX_TIMER_MS);
}

/**
 * The one rule for environment variables: an empty value (`DAPR_HTTP_PORT=`) counts as unset, as
 * Kubernetes and shells leave variables declared without a value.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * A number of seconds ≥ 0 as whole milliseconds (0 stays 0): refused, naming `option`, when it
 * rounds to nothing (a value > 0 below 0.0005 s would become 0 ms and silently mean "off") or
 * overflows what a timer or a cache's clock can hold (more than 2147483.647 s, about 24.8 days).
 */
export function secondsToMs(option: string, value: unknown): number {
  const sec = nonNegativeNumber(option, value);
  const ms = Math.round(sec * 1000);
  if (sec > 0 && ms === 0) {
    throw new InvalidOptionsError(option, value, 'must be 0 (off) or at least 0.0005 seconds (it is kept in whole ms)');
  }
  if (ms > MAX_TIMER_MS) {
    throw new InvalidOptionsError(option, value, `must be at most ${MAX_TIMER_MS / 1000} seconds (${TIMER_LIMIT})`);
  }
  return ms;
}

/** A duration a Node.js timer can hold, > 0. */
export function positiveMs(option: string, value: unknown): number {
  return atMost(option, positiveInt(option, value), MAX_TIMER_MS, TIMER_LIMIT);
}

/** A duration a Node.js timer can hold, ≥ 0. */
export function nonNegativeMs(option: string, value: unknown): number {
  return atMost(option, nonNegativeInt(option, value), MAX_TIMER_MS, TIMER_LIMIT);
}

export function positiveInt(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionsError(option, value, 'must be a positive integer');
  }
  return value;
}

export function nonNegativeInt(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionsError(option, value, 'must be an integer ≥ 0');
  }
  return value;
}

export function nonNegativeNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionsError(option, value, 'must be a number ≥ 0');
  }
  return value;
}

/** Whether `value` is an array of strings. */
export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

export function bool(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionsError(option, value, 'must be true or false');
  return value;
}

/** An object (or the option is refused naming `expectation`). */
export function object<T>(option: string, value: T, expectation = 'must be an object'): T {
  if (typeof value !== 'object' || value === null) throw new InvalidOptionsError(option, value, expectation);
  return value;
}

/** A value sent in a header on every call (an API key, the sidecar token): the shared header check. */
export function headerValue(option: string, value: unknown): string {
  if (value === '' || headerValueFault(value) !== undefined) {
    throw new InvalidOptionsError(
      option,
      value,
      'must be a non-empty string without CR, LF, NUL or characters HTTP cannot carry',
    );
  }
  return value as string;
}

export function atMost(option: string, value: number, max: number, why: string): number {
  if (value > max) throw new InvalidOptionsError(option, value, `must be at most ${max} (${why})`);
  return value;
}
