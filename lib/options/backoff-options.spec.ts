import { backoffDelay } from '../common/backoff';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { KugelCommsModuleOptions } from '../interfaces/kugel-comms-options.interface';
import { resolveRepublisherOptions } from '../republish/republisher-options';
import { RepublishSource } from '../republish/republish-source.interface';
import { retryDelay } from '../transport/retry-policy';
import { DEFAULTS } from './defaults';
import { forgetDeprecationWarnings } from './deprecated-options';
import { resolveOptions } from './resolve-options';
import { warningsDuring as warnings } from '../../test/support/log-capture';

const source: RepublishSource = {
  findUndelivered: async () => [],
  markPublished: async () => undefined,
  markFailed: async () => undefined,
};

beforeEach(() => forgetDeprecationWarnings());

describe('the defaults keep their steps', () => {
  it('REST and sidecar retries: 100, 200, 400 ms ... capped at 10 s, as 2^(n−1) × 100 was', () => {
    const { http, dapr } = resolveOptions({}, {});
    expect(http.backoff).toEqual({ initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, jitter: 0.2 });
    expect(dapr.backoff).toEqual(http.backoff);
    for (let n = 1; n <= 12; n += 1) {
      expect(retryDelay(http.backoff, n, 0, 0)).toBe(Math.min(10_000, 2 ** (n - 1) * 100));
    }
  });

  it('REST retries: a longer Retry-After is waited instead, capped by maxDelayMs', () => {
    const b = DEFAULTS.http.backoff;
    expect(retryDelay(b, 1, 3_000, 0.5)).toBe(3_000);
    expect(retryDelay(b, 1, 60_000, 0)).toBe(10_000);
    expect(retryDelay(b, 3, 10, 0)).toBe(400);
  });

  it('WebSocket reconnects: 100 ms doubling to 30 s', () => {
    const { reconnect } = resolveOptions({}, {}).realtime;
    expect(backoffDelay(reconnect, 1, 0)).toBe(100);
    expect(backoffDelay(reconnect, 9, 0)).toBe(25_600);
    expect(backoffDelay(reconnect, 100, 0)).toBe(30_000);
  });

  it('the republisher: 2, 4, 5, 5 intervals after 1 to 4 failing passes, as interval × 2^n capped at 5 intervals was', () => {
    const { backoff } = resolveRepublisherOptions('r', { source, intervalMs: 60_000 });
    expect([1, 2, 3, 4].map((n) => backoffDelay(backoff, n, 0))).toEqual([120_000, 240_000, 300_000, 300_000]);
  });
});

describe('the old option names: mapped onto backoff, with one warning each', () => {
  it('http.retryDelayMs / maxRetryDelayMs are http.backoff.initialDelayMs / maxDelayMs (services and the sidecar inherit them)', () => {
    const old = resolveOptions(
      { services: { peer: 'http://peer' }, http: { retryDelayMs: 7, maxRetryDelayMs: 70 } },
      {},
    );
    const now = resolveOptions(
      { services: { peer: 'http://peer' }, http: { backoff: { initialDelayMs: 7, maxDelayMs: 70 } } },
      {},
    );
    expect(old.http).toEqual(now.http);
    expect(old.services).toEqual(now.services);
    expect(old.dapr).toEqual(now.dapr);
    expect(old.http.backoff).toEqual({ initialDelayMs: 7, maxDelayMs: 70, multiplier: 2, jitter: 0.2 });
    for (let n = 1; n <= 6; n += 1) {
      expect(retryDelay(old.http.backoff, n, 0, 0.5)).toBe(retryDelay(now.http.backoff, n, 0, 0.5));
    }
  });

  it('dapr.retryDelayMs / maxRetryDelayMs are dapr.backoff.initialDelayMs / maxDelayMs', () => {
    const old = resolveOptions({ dapr: { retryDelayMs: 3, maxRetryDelayMs: 30 } }, {});
    const now = resolveOptions({ dapr: { backoff: { initialDelayMs: 3, maxDelayMs: 30 } } }, {});
    expect(old.dapr).toEqual(now.dapr);
    expect(old.dapr.backoff).toMatchObject({ initialDelayMs: 3, maxDelayMs: 30 });
    expect(old.http.backoff).toEqual(DEFAULTS.http.backoff);
  });

  it("a republisher's maxBackoffMs is its backoff.maxDelayMs", () => {
    const old = resolveRepublisherOptions('r', { source, intervalMs: 1_000, maxBackoffMs: 3_000 });
    const now = resolveRepublisherOptions('r', { source, intervalMs: 1_000, backoff: { maxDelayMs: 3_000 } });
    expect(old).toEqual(now);
    expect([1, 2, 3].map((n) => backoffDelay(old.backoff, n, 0))).toEqual([2_000, 3_000, 3_000]);
  });

  it('one WARN per old option, naming the old and the new option, however often the options are read', () => {
    const options: KugelCommsModuleOptions = {
      services: { a: 'http://a', b: 'http://b' },
      http: { retryDelayMs: 5, maxRetryDelayMs: 50 },
      dapr: { retryDelayMs: 5 },
    };
    const lines = warnings(() => {
      resolveOptions(options, {});
      resolveOptions(options, {});
      resolveRepublisherOptions('orders', { source, maxBackoffMs: 600_000 });
      resolveRepublisherOptions('orders', { source, maxBackoffMs: 600_000 });
    });
    expect(lines).toHaveLength(4);
    expect(lines).toEqual([
      expect.stringMatching(/option http\.retryDelayMs is deprecated .*: use http\.backoff\.initialDelayMs/),
      expect.stringMatching(/option http\.maxRetryDelayMs is deprecated .*: use http\.backoff\.maxDelayMs/),
      expect.stringMatching(/option dapr\.retryDelayMs is deprecated .*: use dapr\.backoff\.initialDelayMs/),
      expect.stringMatching(
        /option republishers\.orders\.maxBackoffMs is deprecated .*: use republishers\.orders\.backoff\.maxDelayMs/,
      ),
    ]);
  });

  it('no warning for the new names', () => {
    const lines = warnings(() => {
      resolveOptions({ http: { backoff: { initialDelayMs: 5 } }, dapr: { backoff: { maxDelayMs: 50 } } }, {});
      resolveRepublisherOptions('r', { source, backoff: { maxDelayMs: 600_000 } });
    });
    expect(lines).toEqual([]);
  });

  it('an old name and its new name together are refused, naming both', () => {
    const both = () => resolveOptions({ http: { retryDelayMs: 5, backoff: { initialDelayMs: 6 } } }, {});
    expect(both).toThrow(InvalidOptionsError);
    expect(both).toThrow(/http\.retryDelayMs.*http\.backoff\.initialDelayMs/);
  });

  it('the new shape is checked like the old one was, naming the option', () => {
    expect(() => resolveOptions({ http: { backoff: { initialDelayMs: -1 } } }, {})).toThrow(
      /http\.backoff\.initialDelayMs/,
    );
    expect(() => resolveOptions({ http: { backoff: { initialDelayMs: 500, maxDelayMs: 100 } } }, {})).toThrow(
      /http\.backoff\.maxDelayMs/,
    );
    expect(() => resolveOptions({ dapr: { backoff: { jitter: 2 } } }, {})).toThrow(/dapr\.backoff\.jitter/);
    expect(() => resolveOptions({ http: { backoff: { multiplier: 0.5 } } }, {})).toThrow(/http\.backoff\.multiplier/);
    expect(() =>
      resolveRepublisherOptions('r', { source, intervalMs: 1_000, backoff: { initialDelayMs: 10 } }),
    ).toThrow(/republishers\.r\.backoff\.initialDelayMs/);
  });
});
