import { InvalidOptionsError } from '../errors/invalid-options.error';
import { resolveBreaker } from '../options/resolve-transport';
import { ResolvedBreakerOptions } from '../options/resolved-options.interface';
import { bool, nonNegativeMs, nonNegativeNumber, positiveInt, positiveMs } from '../options/validators';
import { ReconnectOptions, RealtimeOptions, RealtimeSettings } from '../interfaces/realtime-options.interface';

/** Defaults of the WebSocket client (`realtime.*`). */
export const REALTIME_DEFAULTS = {
  maxMessageBytes: 1024 * 1024,
  sendBufferSize: 1_000,
  sendTimeoutMs: 30_000,
  resendUnconfirmed: true,
  handshakeTimeoutMs: 10_000,
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  reconnect: { initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 2, jitter: 0.2, resetAfterMs: 2_000 },
  // Looser than the REST/Dapr breaker: a peer that restarts (a rolling update) is down for seconds.
  breaker: { failureThreshold: 5, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1 },
} as const;

export type ResolvedReconnectOptions = Required<ReconnectOptions>;

export interface ResolvedRealtimeSettings {
  maxMessageBytes: number;
  sendBufferSize: number;
  sendTimeoutMs: number;
  resendUnconfirmed: boolean;
  handshakeTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  reconnect: ResolvedReconnectOptions;
}

export interface ResolvedRealtimeOptions extends ResolvedRealtimeSettings {
  breaker: ResolvedBreakerOptions | false;
}

/** `realtime.*` merged over the defaults and validated (the module calls it at boot). */
export function resolveRealtimeOptions(o: RealtimeOptions = {}, p = 'realtime'): ResolvedRealtimeOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError(p, o, 'must be an object');
  const d = REALTIME_DEFAULTS;
  const b = o.breaker;
  if (b !== undefined && b !== false && (typeof b !== 'object' || b === null)) {
    throw new InvalidOptionsError(`${p}.breaker`, b, 'must be false or breaker options');
  }
  const breaker = b === false ? false : resolveBreaker(`${p}.breaker`, { ...d.breaker, ...(b ?? {}) });
  return { ...resolveRealtimeSettings(o, defaultSettings(), p), breaker };
}

/**
 * Per-connection overrides merged over the module's settings. Throws `InvalidOptionsError` naming
 * the option (`p.heartbeatIntervalMs`, ...) and the value.
 */
export function resolveRealtimeSettings(
  o: RealtimeSettings,
  base: ResolvedRealtimeSettings,
  p: string,
): ResolvedRealtimeSettings {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError(p, o, 'must be an object');
  return {
    maxMessageBytes: positiveInt(`${p}.maxMessageBytes`, o.maxMessageBytes ?? base.maxMessageBytes),
    sendBufferSize: positiveInt(`${p}.sendBufferSize`, o.sendBufferSize ?? base.sendBufferSize),
    sendTimeoutMs: positiveMs(`${p}.sendTimeoutMs`, o.sendTimeoutMs ?? base.sendTimeoutMs),
    resendUnconfirmed: bool(`${p}.resendUnconfirmed`, o.resendUnconfirmed ?? base.resendUnconfirmed),
    handshakeTimeoutMs: positiveMs(`${p}.handshakeTimeoutMs`, o.handshakeTimeoutMs ?? base.handshakeTimeoutMs),
    heartbeatIntervalMs: positiveMs(`${p}.heartbeatIntervalMs`, o.heartbeatIntervalMs ?? base.heartbeatIntervalMs),
    heartbeatTimeoutMs: positiveMs(`${p}.heartbeatTimeoutMs`, o.heartbeatTimeoutMs ?? base.heartbeatTimeoutMs),
    reconnect: resolveReconnect(o.reconnect ?? {}, base.reconnect, `${p}.reconnect`),
  };
}

function resolveReconnect(o: ReconnectOptions, base: ResolvedReconnectOptions, p: string): ResolvedReconnectOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidOptionsError(p, o, 'must be an object');
  const initialDelayMs = positiveMs(`${p}.initialDelayMs`, o.initialDelayMs ?? base.initialDelayMs);
  const maxDelayMs = positiveMs(`${p}.maxDelayMs`, o.maxDelayMs ?? base.maxDelayMs);
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidOptionsError(`${p}.maxDelayMs`, maxDelayMs, `must be ≥ ${p}.initialDelayMs (${initialDelayMs})`);
  }
  const multiplier = nonNegativeNumber(`${p}.multiplier`, o.multiplier ?? base.multiplier);
  if (multiplier < 1 || multiplier > 100) {
    throw new InvalidOptionsError(`${p}.multiplier`, multiplier, 'must be a number from 1 to 100');
  }
  const jitter = nonNegativeNumber(`${p}.jitter`, o.jitter ?? base.jitter);
  if (jitter > 1) throw new InvalidOptionsError(`${p}.jitter`, jitter, 'must be a number from 0 to 1');
  return {
    initialDelayMs,
    maxDelayMs,
    multiplier,
    jitter,
    resetAfterMs: nonNegativeMs(`${p}.resetAfterMs`, o.resetAfterMs ?? base.resetAfterMs),
  };
}

function defaultSettings(): ResolvedRealtimeSettings {
  const { breaker: _breaker, reconnect, ...rest } = REALTIME_DEFAULTS;
  return { ...rest, reconnect: { ...reconnect } };
}
