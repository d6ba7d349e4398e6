import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { resolveOptions } from './resolve-options';
import { REALTIME_DEFAULTS } from './defaults';
import { resolveRealtimeSettings } from './resolve-realtime';
import { thrownBy } from '../../test/support/errors';

describe('realtime options', () => {
  it('are resolved with the module options, defaults from REALTIME_DEFAULTS', () => {
    const o = resolveOptions({}, {});
    expect(o.realtime).toEqual({
      maxMessageBytes: 1_048_576,
      sendBufferSize: 1_000,
      sendTimeoutMs: 30_000,
      resendUnconfirmed: true,
      handshakeTimeoutMs: 10_000,
      heartbeatIntervalMs: 15_000,
      heartbeatTimeoutMs: 10_000,
      reconnect: { ...REALTIME_DEFAULTS.reconnect },
      breaker: { ...REALTIME_DEFAULTS.breaker },
    });
  });

  it('merge partial values, breaker included, and turn the breaker off with false', () => {
    const o = resolveOptions({ realtime: { reconnect: { maxDelayMs: 5_000 }, breaker: { failureThreshold: 2 } } }, {});
    expect(o.realtime.reconnect).toEqual({ ...REALTIME_DEFAULTS.reconnect, maxDelayMs: 5_000 });
    expect(o.realtime.breaker).toEqual({ failureThreshold: 2, resetTimeoutMs: 30_000, halfOpenMaxCalls: 1 });
    expect(resolveOptions({ realtime: { breaker: false } }, {}).realtime.breaker).toBe(false);
  });

  it.each([
    [{ maxMessageBytes: 0 }, 'realtime.maxMessageBytes', 'got 0'],
    [{ sendBufferSize: 1.5 }, 'realtime.sendBufferSize', 'got 1.5'],
    [{ sendTimeoutMs: -1 }, 'realtime.sendTimeoutMs', 'got -1'],
    [{ heartbeatIntervalMs: '15s' }, 'realtime.heartbeatIntervalMs', 'got "15s"'],
    [{ heartbeatTimeoutMs: 2 ** 31 }, 'realtime.heartbeatTimeoutMs', 'got 2147483648'],
    [{ resendUnconfirmed: 'yes' }, 'realtime.resendUnconfirmed', 'got "yes"'],
    [{ reconnect: { jitter: 1.5 } }, 'realtime.reconnect.jitter', 'got 1.5'],
    [{ reconnect: { multiplier: 0.5 } }, 'realtime.reconnect.multiplier', 'got 0.5'],
    [{ reconnect: { initialDelayMs: 500, maxDelayMs: 100 } }, 'realtime.reconnect.maxDelayMs', 'got 100'],
    [{ reconnect: 'fast' }, 'realtime.reconnect', 'got "fast"'],
    [{ breaker: { failureThreshold: 0 } }, 'realtime.breaker.failureThreshold', 'got 0'],
    [{ breaker: 'on' }, 'realtime.breaker', 'got "on"'],
  ])('%j stops boot naming the option and the value', (realtime, option, got) => {
    const error = thrownBy(() => resolveOptions({ realtime } as never, {}));
    expect(isInvalidOptionsError(error)).toBe(true);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(got);
  });

  it('per-connection overrides go over the module settings', () => {
    const base = resolveOptions({ realtime: { sendBufferSize: 10 } }, {}).realtime;
    const s = resolveRealtimeSettings({ heartbeatIntervalMs: 500, reconnect: { initialDelayMs: 20 } }, base, 'options');
    expect(s).toMatchObject({ sendBufferSize: 10, heartbeatIntervalMs: 500 });
    expect(s.reconnect).toEqual({ ...REALTIME_DEFAULTS.reconnect, initialDelayMs: 20 });
    expect(thrownBy(() => resolveRealtimeSettings({ sendBufferSize: 0 }, base, 'options')).message).toContain(
      '"options.sendBufferSize"',
    );
  });
});
