import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { DEFAULTS } from './defaults';
import { resolveOptions } from './resolve-options';
import { thrownBy } from '../../test/support/errors';

describe('resolveOptions', () => {
  it('fills every default from one place', () => {
    const o = resolveOptions({ services: { 'master-data': 'http://127.0.0.1:8002/api/v1/' } }, {});
    expect(o.http.timeoutMs).toBe(30_000);
    expect(o.http.retries).toBe(3);
    expect(o.services['master-data']).toMatchObject({
      baseUrl: 'http://127.0.0.1:8002/api/v1',
      timeoutMs: 30_000,
      retries: 3,
    });
    expect(o.dapr).toMatchObject({ httpEndpoint: 'http://127.0.0.1:3500', retries: DEFAULTS.dapr.retries });
    expect(o.dapr.breaker).toEqual({ failureThreshold: 3, resetTimeoutMs: 60_000, halfOpenMaxCalls: 1 });
    expect(o.health.openCircuitIs).toBe('down');
  });

  it('takes the sidecar transport options from dapr.*, each defaulting to http.*', () => {
    const o = resolveOptions(
      {
        http: { backoff: { initialDelayMs: 7, maxDelayMs: 70 }, maxSockets: 9 },
        dapr: { maxSockets: 3, maxContentLength: 100, backoff: { jitter: 0 } },
      },
      {},
    );
    expect(o.dapr).toMatchObject({
      backoff: { initialDelayMs: 7, maxDelayMs: 70, multiplier: 2, jitter: 0 },
      maxSockets: 3,
      idleSocketTimeoutMs: DEFAULTS.http.idleSocketTimeoutMs,
      maxContentLength: 100,
      maxBodyLength: DEFAULTS.http.maxBodyLength,
      timeoutMs: DEFAULTS.dapr.timeoutMs,
      retries: DEFAULTS.dapr.retries,
    });
    expect(o.http.maxSockets).toBe(9);
  });

  it('reads DAPR_HTTP_PORT and DAPR_API_TOKEN from the environment', () => {
    const o = resolveOptions({}, { DAPR_HTTP_PORT: '3601', DAPR_API_TOKEN: 'tok' });
    expect(o.dapr.httpEndpoint).toBe('http://127.0.0.1:3601');
    expect(o.dapr.apiToken).toBe('tok');
  });

  it.each([
    [{ http: { timeoutMs: 0 } }, 'http.timeoutMs', 'got 0'],
    [{ http: { retries: -1 } }, 'http.retries', 'got -1'],
    [{ http: { maxSockets: 'many' } }, 'http.maxSockets', 'got "many"'],
    [{ services: { peer: 'ftp://x' } }, 'services.peer', 'got "ftp://x"'],
    [{ services: { peer: { baseUrl: 'http://h', retries: 1.5 } } }, 'services.peer.retries', 'got 1.5'],
    [{ services: { 'bad name!': 'http://h' } }, 'services.bad name!', 'got "bad name!"'],
    [{ dapr: { breaker: { failureThreshold: 0 } } }, 'dapr.breaker.failureThreshold', 'got 0'],
    [{ dapr: { httpEndpoint: 'not a url' } }, 'dapr.httpEndpoint', 'got "not a url"'],
    [{ dapr: { maxSockets: 0 } }, 'dapr.maxSockets', 'got 0'],
    [{ dapr: { idleSocketTimeoutMs: -1 } }, 'dapr.idleSocketTimeoutMs', 'got -1'],
    [
      { dapr: { breaker: { resetTimeoutMs: Number.MAX_SAFE_INTEGER } } },
      'dapr.breaker.resetTimeoutMs',
      `got ${Number.MAX_SAFE_INTEGER}`,
    ],
    [{ health: { openCircuitIs: 'sideways' } }, 'health.openCircuitIs', 'got "sideways"'],
    [{ auth: { serviceToken: { secret: 's', algorithm: 'none' } } }, 'auth.serviceToken.algorithm', 'got "none"'],
    [
      { auth: { serviceToken: { secret: 's', expiresInMs: 86_400_000 } } },
      'auth.serviceToken.expiresInMs',
      'got 86400000',
    ],
    [{ auth: { serviceToken: { secret: 's', expiresInMs: 999 } } }, 'auth.serviceToken.expiresInMs', 'got 999'],
    [{ repositories: { cacheTtlMs: 1.5 } }, 'repositories.cacheTtlMs', 'got 1.5'],
    [{ repositories: { cacheTtlMs: -1 } }, 'repositories.cacheTtlMs', 'got -1'],
    [{ auth: { serviceToken: { secret: 's', audience: 'cart' } } }, 'auth.serviceToken.audience', 'got "cart"'],
    [{ auth: { serviceToken: { secret: 's', issuer: 7 } } }, 'auth.serviceToken.issuer', 'got 7'],
  ])('%j → names %s and the value', (options, option, got) => {
    const error = thrownBy(() => resolveOptions(options as never, {}));
    expect(isInvalidOptionsError(error)).toBe(true);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain(got);
  });

  it('never shows a secret value in the error', () => {
    const error = thrownBy(() => resolveOptions({ auth: { apiKey: 'sk-line\r\nbreak' } }, {}));
    expect(error.message).toContain('auth.apiKey');
    expect(error.message).not.toContain('sk-line');
    const urlError = thrownBy(() => resolveOptions({ services: { p: 'http://user:pa55@h' } }, {}));
    expect(urlError.message).not.toContain('pa55');
  });

  it('an empty environment value counts as unset, for every variable alike', () => {
    const o = resolveOptions({}, { DAPR_HTTP_PORT: '', DAPR_API_TOKEN: '', APP_API_TOKEN: '' });
    expect(o.dapr.httpEndpoint).toBe('http://127.0.0.1:3500');
    expect(o.dapr.apiToken).toBeUndefined();
    expect(o.subscriptions.appApiToken).toBeUndefined();
  });

  it.each([
    [1e306, 'must be at most 2147483.647 seconds'],
    [Number.MAX_VALUE, 'must be at most 2147483.647 seconds'],
    [2147483.648, 'must be at most 2147483.647 seconds'],
    [0.0004, 'must be 0 (off) or at least 0.0005 seconds'],
    [Number.MIN_VALUE, 'must be 0 (off) or at least 0.0005 seconds'],
  ])(
    'the old repositories.cacheTtlSec %p that overflows or rounds to nothing → InvalidOptionsError naming it',
    (ttl, why) => {
      const error = thrownBy(() => resolveOptions({ repositories: { cacheTtlSec: ttl } }, {}));
      expect(isInvalidOptionsError(error)).toBe(true);
      expect(error.message).toContain('"repositories.cacheTtlSec"');
      expect(error.message).toContain(why);
    },
  );

  it('repositories.cacheTtlMs: 0 is off; the old cacheTtlSec: 0 is off, 0.0005 one ms, 2147483.647 the longest', () => {
    expect(resolveOptions({ repositories: { cacheTtlMs: 0 } }, {}).repositories.cacheTtlMs).toBe(0);
    expect(resolveOptions({ repositories: { cacheTtlMs: 1500 } }, {}).repositories.cacheTtlMs).toBe(1500);
    expect(resolveOptions({}, {}).repositories.cacheTtlMs).toBe(300_000);
    const ttl = (cacheTtlSec: number) => resolveOptions({ repositories: { cacheTtlSec } }, {}).repositories.cacheTtlMs;
    expect(ttl(0)).toBe(0);
    expect(ttl(0.0005)).toBe(1);
    expect(ttl(1.5)).toBe(1500);
    expect(ttl(2147483.647)).toBe(2_147_483_647);
  });

  it('a URL fragment in an option is shown like a query: its secret values hidden', () => {
    const error = thrownBy(() =>
      resolveOptions({ services: { p: 'http://h/api#access_token=frag-secret&state=xyz' } }, {}),
    );
    expect(isInvalidOptionsError(error)).toBe(true);
    expect(error.message).toContain('services.p');
    expect(error.message).toContain('#access_token=***&state=xyz');
    expect(error.message).not.toContain('frag-secret');
  });

  it('refuses a bad DAPR_HTTP_PORT', () => {
    expect(thrownBy(() => resolveOptions({}, { DAPR_HTTP_PORT: '70000' })).message).toMatch(/DAPR_HTTP_PORT.*"70000"/);
  });
});
