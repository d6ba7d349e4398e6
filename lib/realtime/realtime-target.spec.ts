import { isRealtimeError } from '../errors/realtime.error';
import { resolveOptions } from '../options/resolve-options';
import { resolveRealtimeTarget, withQuery } from './realtime-target';
import { thrownBy } from '../../test/support/errors';

describe('resolveRealtimeTarget', () => {
  const options = resolveOptions(
    {
      services: {
        stock: 'http://stock:8000/api/v1',
        'stock-tls': { baseUrl: 'https://stock.example:8443', insecureSkipTlsVerify: true } as never,
      },
      dapr: { serviceInvocation: true },
    },
    {},
  );

  it('derives ws: from http: and wss: from https:, keeping the base path', () => {
    expect(resolveRealtimeTarget('stock', '/ws/T1/S1', options, {})).toMatchObject({
      url: 'ws://stock:8000/api/v1/ws/T1/S1',
      source: 'options',
    });
    expect(resolveRealtimeTarget('stock-tls', 'alerts', options, {}).url).toBe('wss://stock.example:8443/alerts');
  });

  it('falls back to BASE_URL_<NAME>, exact names only', () => {
    const env = { BASE_URL_STOCK_MONITOR: 'https://monitor:9000/api' };
    expect(resolveRealtimeTarget('stock-monitor', '/ws', options, env)).toMatchObject({
      url: 'wss://monitor:9000/api/ws',
      source: 'env',
    });
    const e = thrownBy(
      () =>
        resolveRealtimeTarget(
          'stock-monito',
          '/ws',
          { ...options, dapr: { ...options.dapr, serviceInvocation: false } },
          env,
        ),
      isRealtimeError,
    );
    expect(e.code).toBe('ERR_UNKNOWN_SERVICE');
    expect(e.message).toContain('BASE_URL_STOCK_MONITO');
  });

  it('refuses a peer known only through Dapr service invocation (it carries no WebSockets)', () => {
    const e = thrownBy(() => resolveRealtimeTarget('nowhere', '/ws', options, {}), isRealtimeError);
    expect(e.code).toBe('ERR_UNKNOWN_SERVICE');
    expect(e.message).toMatch(/Dapr service invocation.*BASE_URL_NOWHERE/);
  });

  it.each([
    'ws://evil.example/x',
    'http://evil.example/x',
    '//evil.example/x',
    '\\\\evil.example/x',
    '/../admin',
    '/ws/%2e%2e/admin',
    '/ws/./x',
    '/ws/T 1',
    '/ws/T1#frag',
    '/ws/コード',
  ])('refuses the path %j before any I/O', (path) => {
    const e = thrownBy(() => resolveRealtimeTarget('stock', path, options, {}), isRealtimeError);
    expect(e.code).toBe('ERR_BAD_REQUEST_INPUT');
    expect(e.message).toContain('nothing was sent');
  });

  it('never quotes a token that was put in a refused path', () => {
    const e = thrownBy(
      () => resolveRealtimeTarget('stock', '/ws/../x?token=abc.def.ghi', options, {}),
      isRealtimeError,
    );
    expect(e.message).not.toContain('abc.def.ghi');
    expect(e.message).toContain('token=***');
  });

  it('withQuery percent-encodes and appends to a query already in the path', () => {
    expect(withQuery('ws://h/ws', { token: 'a b&c', n: '1' })).toBe('ws://h/ws?token=a+b%26c&n=1');
    expect(withQuery('ws://h/ws?x=1', { y: '2' })).toBe('ws://h/ws?x=1&y=2');
    expect(withQuery('ws://h/ws', {})).toBe('ws://h/ws');
  });
});
