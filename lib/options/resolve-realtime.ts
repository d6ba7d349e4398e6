import { InvalidOptionsError } from '../errors/invalid-options.error';
import { ReconnectOptions, RealtimeOptions, RealtimeSettings } from '../interfaces/realtime-options.interface';
import { DEFAULTS } from './defaults';
import { resolveBreaker } from './resolve-transport';
import {
  ResolvedRealtimeOptions,
  ResolvedRealtimeSettings,
  ResolvedReconnectOptions,
} from './resolved-options.interface';
import { bool, nonNegativeMs, nonNegativeNumber, object, positiveInt, positiveMs } from './validators';

/** `realtime.*` merged over the defaults and validated (the module calls it at boot). */
export function resolveRealtimeOptions(o: RealtimeOptions, p = 'realtime'): ResolvedRealtimeOptions {
  object(p, o);
  const b = o.breaker;
  const breaker =
    b === false
      ? false
      : resolveBreaker(`${p}.breaker`, {
          ...DEFAULTS.realtime.breaker,
          ...(b === undefined ? {} : object(`${p}.breaker`, b, 'must be false or breaker options')),
        });
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
  object(p, o);
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
  object(p, o);
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
  const { breaker: _breaker, reconnect, ...rest } = DEFAULTS.realtime;
  return { ...rest, reconnect: { ...reconnect } };
}
