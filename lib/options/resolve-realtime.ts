import { ReconnectOptions, RealtimeOptions, RealtimeSettings } from '../interfaces/realtime-options.interface';
import { DEFAULTS } from './defaults';
import { resolveBackoff } from './resolve-backoff';
import { resolveBreaker } from './resolve-transport';
import {
  ResolvedRealtimeOptions,
  ResolvedRealtimeSettings,
  ResolvedReconnectOptions,
} from './resolved-options.interface';
import { bool, nonNegativeMs, object, positiveInt, positiveMs } from './validators';

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
  return {
    ...resolveBackoff(p, o, base),
    resetAfterMs: nonNegativeMs(`${p}.resetAfterMs`, o.resetAfterMs ?? base.resetAfterMs),
  };
}

function defaultSettings(): ResolvedRealtimeSettings {
  const { breaker: _breaker, reconnect, ...rest } = DEFAULTS.realtime;
  return { ...rest, reconnect: { ...reconnect } };
}
