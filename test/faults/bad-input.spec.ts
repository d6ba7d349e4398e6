import { TestingModule } from '@nestjs/testing';
import {
  CircuitState,
  DaprClientHelper,
  DaprResult,
  HttpClientError,
  HttpClientHelper,
  isHttpClientError,
  isInvalidOptionsError,
  KugelCommsModuleOptions,
  pathOf,
} from '../../lib';
import { teeToScan } from '../support/log-scan';
import { bootKugelComms } from '../support/module-fixture';
import { SECRETS } from '../support/secrets';
import { json, startTestServer, TestServer } from '../support/test-server';
import { quietLogs, restoreLogs } from './support/scenario';

/**
 * Bad input is answered with a clear error before anything is sent: the recording server (a
 * peer, and a fake sidecar) must see no request at all.
 */
describe('faults: bad input is refused with a clear error and nothing is sent', () => {
  let server: TestServer;
  let app: TestingModule;

  beforeAll(async () => {
    server = await startTestServer((_req, res) => json(res, 200, { ok: true }));
    quietLogs();
    app = await bootKugelComms({
      services: { peer: server.url },
      auth: { apiKey: SECRETS.apiKey },
      dapr: { httpEndpoint: server.url, apiToken: SECRETS.daprApiToken, waitForSidecarMs: 0 },
    });
    quietLogs();
  });
  afterAll(async () => {
    await app?.close();
    await server?.close();
    restoreLogs();
  });

  const peer = () => app.get(HttpClientHelper).getServiceClient('peer');
  const dapr = () => app.get(DaprClientHelper);

  async function refusal(call: () => Promise<unknown>): Promise<HttpClientError> {
    try {
      await call();
    } catch (error) {
      teeToScan(`[bad-input] ${String(error)} ${JSON.stringify(error)}`);
      return error as HttpClientError;
    }
    throw new Error('expected the call to be refused');
  }

  describe('ServiceClient', () => {
    const circular = () => {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    };
    it.each<[string, () => Promise<unknown>, RegExp]>([
      [
        'a CR/LF header value',
        () => peer().get('/x', { headers: { 'X-Note': 'a\r\nX-Injected: 1' } }),
        /header "X-Note" contains CR, LF or NUL/,
      ],
      [
        'a LF-only header value',
        () => peer().get('/x', { headers: { 'X-Note': 'a\nb' } }),
        /header "X-Note" contains CR, LF or NUL/,
      ],
      [
        'a NUL in a header value',
        () => peer().get('/x', { headers: { 'X-Note': 'a\0b' } }),
        /header "X-Note" contains CR, LF or NUL/,
      ],
      [
        'a CR/LF in a credential header',
        () => peer().get('/x', { headers: { 'X-API-KEY': `${SECRETS.apiKey}\r\nX-Evil: 1` } }),
        /header "X-API-KEY" contains CR, LF or NUL/,
      ],
      [
        'a non-string header value',
        () => peer().get('/x', { headers: { 'X-Count': 3 as unknown as string } }),
        /header "X-Count" must be a string/,
      ],
      ['a header name with a space', () => peer().get('/x', { headers: { 'X Bad': 'v' } }), /not a valid HTTP token/],
      ['a raw ".." segment', () => peer().get('/items/../admin'), /"\." or "\.\." segment/],
      ['an encoded "%2e%2e" segment', () => peer().get('/items/%2e%2e/admin'), /"\." or "\.\." segment/],
      ['a "." segment', () => peer().get('/items/./x'), /"\." or "\.\." segment/],
      ['an absolute URL', () => peer().get('http://127.0.0.1:1/x'), /absolute URLs are refused/],
      ['a protocol-relative URL', () => peer().get('//127.0.0.1:1/x'), /absolute URLs are refused/],
      ['a backslash path', () => peer().get('\\\\host\\x'), /absolute URLs are refused|"\\\\"/],
      ['a CR/LF in the path', () => peer().get('/x\r\nHost: evil'), /whitespace|control characters/],
      ['a space in the path', () => peer().get('/x y'), /whitespace/],
      ['a "#" in the path', () => peer().get('/x#frag'), /"#"/],
      ['pathOf with ".."', () => Promise.resolve().then(() => peer().get(pathOf`/items/${'..'}`)), /is a dot segment/],
      ['pathOf with ""', () => Promise.resolve().then(() => peer().get(pathOf`/items/${''}/x`)), /is empty/],
      [
        'pathOf with NaN',
        () => Promise.resolve().then(() => peer().get(pathOf`/items/${Number.NaN}`)),
        /not a finite number/,
      ],
      ['a circular body', () => peer().post('/x', circular()), /not JSON-serialisable/],
      ['a BigInt body', () => peer().post('/x', { n: BigInt(7) }), /not JSON-serialisable/],
      ['a function body', () => peer().post('/x', () => 1), /body of type function is not JSON-serialisable/],
      ['a symbol body', () => peer().put('/x', Symbol('s')), /body of type symbol is not JSON-serialisable/],
      ['an object query value', () => peer().get('/x', { params: { q: { a: 1 } as never } }), /query parameter "q"/],
      [
        'a negative per-call timeout',
        () => peer().get('/x', { timeoutMs: -1 }),
        /timeoutMs must be an integer from 1 to 2147483647, got -1/,
      ],
      ['a fractional retries', () => peer().get('/x', { retries: 1.5 }), /retries must be an integer ≥ 0, got 1.5/],
    ])('%s', async (_what, call, message) => {
      const before = server.requests.length;
      const error = await refusal(call);
      expect(isHttpClientError(error)).toBe(true);
      expect(error.code).toBe('ERR_BAD_REQUEST_INPUT');
      expect(error.attempts).toBe(0);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(SECRETS.apiKey);
      expect(server.requests.length).toBe(before);
    });

    it.each([
      ['an unknown name', 'nope', /services\["nope"\].*BASE_URL_NOPE/],
      ['a prefix of a known name', 'pee', /unknown service "pee"/],
      ['a name with a slash', 'a/b', /not valid/],
      ['an empty name', '', /not valid/],
      ['a dot-dot name', '..', /not valid/],
    ])('unknown service: %s fails naming the option and the variable to set', async (_what, name, message) => {
      const before = server.requests.length;
      const error = await refusal(async () => app.get(HttpClientHelper).getServiceClient(name));
      expect(error.code).toBe('ERR_UNKNOWN_SERVICE');
      expect(error.message).toMatch(message);
      expect(server.requests.length).toBe(before);
    });
  });

  describe('DaprClientHelper (fake sidecar: a recording server)', () => {
    const circular = () => {
      const o: Record<string, unknown> = {};
      o.o = o;
      return o;
    };
    it.each<[string, () => Promise<DaprResult<unknown>>, RegExp]>([
      ['an empty key', () => dapr().detailed.saveState('statestore', '', 1), /non-empty string/],
      ['a ".." key', () => dapr().detailed.saveState('statestore', '..', 1), /dot segment/],
      ['a "." key (get)', () => dapr().detailed.getState('statestore', '.'), /dot segment/],
      ['a "||" key', () => dapr().detailed.saveState('statestore', 'a||b', 1), /"\|\|"/],
      ['a "||" key (delete)', () => dapr().detailed.deleteState('statestore', 'tenant||x'), /"\|\|"/],
      ['a non-string key', () => dapr().detailed.getState('statestore', 42 as unknown as string), /non-empty string/],
      ['a circular value', () => dapr().detailed.saveState('statestore', 'k', circular()), /not JSON-serialisable/],
      ['a BigInt value', () => dapr().detailed.saveState('statestore', 'k', { n: BigInt(1) }), /not JSON-serialisable/],
      [
        'an undefined value',
        () => dapr().detailed.saveState('statestore', 'k', undefined),
        /state value of type undefined/,
      ],
      ['a function value', () => dapr().detailed.saveState('statestore', 'k', () => 1), /state value of type function/],
      ['an empty store name', () => dapr().detailed.saveState('', 'k', 1), /component name must be a non-empty string/],
      ['a ".." store name', () => dapr().detailed.getState('..', 'k'), /dot segment/],
      [
        'a CR/LF ETag',
        () => dapr().detailed.deleteState('statestore', 'k', { etag: '1\r\nX-Evil: 1' }),
        /etag must be a string without CR, LF, NUL/,
      ],
      [
        'bulk keys that are not an array',
        () => dapr().detailed.getBulkState('statestore', 'k' as unknown as string[]),
        /keys must be an array/,
      ],
      ['a bad key among bulk keys', () => dapr().detailed.getBulkState('statestore', ['ok', '']), /non-empty string/],
      ['an empty transaction', () => dapr().detailed.executeStateTransaction('statestore', []), /non-empty array/],
      [
        'an unknown transaction operation',
        () =>
          dapr().detailed.executeStateTransaction('statestore', [
            { operation: 'merge' as 'upsert', request: { key: 'k' } },
          ]),
        /"upsert" or "delete"/,
      ],
      [
        'an upsert without a value',
        () => dapr().detailed.executeStateTransaction('statestore', [{ operation: 'upsert', request: { key: 'k' } }]),
        /value of "k" of type undefined/,
      ],
      [
        'a "||" key in a transaction',
        () =>
          dapr().detailed.executeStateTransaction('statestore', [{ operation: 'delete', request: { key: 'a||b' } }]),
        /"\|\|"/,
      ],
      [
        'an empty pub/sub name',
        () => dapr().detailed.publishEvent('', 'orders', {}),
        /component name must be a non-empty string/,
      ],
      ['a ".." topic', () => dapr().detailed.publishEvent('pubsub', '..', {}), /dot segment/],
      [
        'circular event data',
        () => dapr().detailed.publishEvent('pubsub', 'orders', circular()),
        /event data is not JSON-serialisable/,
      ],
      [
        'undefined event data',
        () => dapr().detailed.publishEvent('pubsub', 'orders', undefined),
        /event data of type undefined/,
      ],
      [
        'an empty metadata key',
        () => dapr().detailed.publishEvent('pubsub', 'orders', {}, { metadata: { '': 'x' } }),
        /metadata keys must be non-empty/,
      ],
    ])('%s → ERR_BAD_REQUEST_INPUT, nothing sent, breaker untouched', async (_what, call, message) => {
      const before = server.requests.length;
      const result = await call();
      teeToScan(`[bad-input dapr] ${JSON.stringify(result)}`);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.code).toBe('ERR_BAD_REQUEST_INPUT');
      expect(result.error).toMatch(message);
      expect(result.error).toMatch(/nothing was sent/);
      expect(result.error).not.toContain(SECRETS.daprApiToken);
      expect(server.requests.length).toBe(before);
      for (const [kind, name] of [
        ['state', 'statestore'],
        ['pubsub', 'pubsub'],
      ] as const) {
        const snapshot = dapr().breakerFor(kind, name).snapshot();
        expect(snapshot).toMatchObject({ state: CircuitState.Closed, consecutiveFailures: 0 });
      }
    });

    it('the boolean forms answer false / null for the same input, without a request', async () => {
      const before = server.requests.length;
      await expect(dapr().saveState('statestore', 'a||b', 1)).resolves.toBe(false);
      await expect(dapr().getState('statestore', '..')).resolves.toBeNull();
      await expect(dapr().deleteState('statestore', '')).resolves.toBe(false);
      await expect(dapr().getBulkState('statestore', [''])).resolves.toBeNull();
      await expect(dapr().publishEvent('pubsub', 'orders', undefined)).resolves.toBe(false);
      expect(server.requests.length).toBe(before);
    });
  });

  describe('invalid options at boot name the option and the value', () => {
    const url = () => server.url;
    it.each<[string, () => KugelCommsModuleOptions, RegExp]>([
      ['a negative timeout', () => ({ http: { timeoutMs: -5 } }), /"http\.timeoutMs".*got -5/],
      ['zero maxSockets', () => ({ http: { maxSockets: 0 } }), /"http\.maxSockets".*got 0/],
      [
        'a fractional service retries',
        () => ({ services: { peer: { baseUrl: url(), retries: 1.5 } } }),
        /"services\.peer\.retries".*got 1\.5/,
      ],
      [
        'an ftp base URL',
        () => ({ services: { peer: 'ftp://127.0.0.1/x' } }),
        /"services\.peer".*http: or https:.*ftp:\/\/127\.0\.0\.1\/x/,
      ],
      [
        'a base URL with credentials',
        () => ({ services: { peer: 'http://user:pw-secret@127.0.0.1:1' } }),
        /"services\.peer".*must not carry credentials/,
      ],
      [
        'a base URL with a query',
        () => ({ services: { peer: `${url()}?token=x` } }),
        /"services\.peer".*query or fragment/,
      ],
      ['a bad service name', () => ({ services: { 'a/b': url() } }), /"services\.a\/b".*service name/],
      [
        'a sidecar endpoint that is not a URL',
        () => ({ dapr: { httpEndpoint: 'not a url' } }),
        /"dapr\.httpEndpoint".*"not a url"/,
      ],
      [
        'a zero breaker threshold',
        () => ({ dapr: { breaker: { failureThreshold: 0 } } }),
        /"dapr\.breaker\.failureThreshold".*got 0/,
      ],
      ['a budget ratio over 1', () => ({ http: { retryBudget: { ratio: 2 } } }), /"http\.retryBudget\.ratio".*got 2/],
      [
        'a string for a boolean',
        () => ({ http: { insecureSkipTlsVerify: 'yes' as unknown as boolean } }),
        /"http\.insecureSkipTlsVerify".*"yes"/,
      ],
      [
        'an unknown health mode',
        () => ({ health: { openCircuitIs: 'maybe' as 'up' } }),
        /"health\.openCircuitIs".*"maybe"/,
      ],
      [
        'an API key with CR/LF (value hidden)',
        () => ({ auth: { apiKey: `${SECRETS.apiKey}\r\n` } }),
        /"auth\.apiKey".*value hidden/,
      ],
      [
        'a sidecar token with LF (value hidden)',
        () => ({ dapr: { apiToken: `${SECRETS.daprApiToken}\n` } }),
        /"dapr\.apiToken".*value hidden/,
      ],
    ])('%s', async (_what, options, message) => {
      const before = server.requests.length;
      let error: unknown;
      try {
        const moduleRef = await bootKugelComms({ ...options(), dapr: { waitForSidecarMs: 0, ...options().dapr } });
        await moduleRef.close();
      } catch (e) {
        error = e;
      }
      quietLogs();
      teeToScan(`[bad-options] ${String(error)}`);
      expect(isInvalidOptionsError(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      for (const secret of [SECRETS.apiKey, SECRETS.daprApiToken, 'pw-secret'])
        expect((error as Error).message).not.toContain(secret);
      expect(server.requests.length).toBe(before);
    });
  });
});
