import { Logger } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import * as jwt from 'jsonwebtoken';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import {
  DaprClientHelper,
  HttpClientError,
  HttpClientHelper,
  isInvalidOptionsError,
  ServiceTokenService,
} from '../../lib';
import { describeFindings, runDir, scanLogDir, teeToScan } from '../support/log-scan';
import { bootKugelComms } from '../support/module-fixture';
import { SECRETS } from '../support/secrets';
import { json, RecordedRequest, startTestServer, TestServer } from '../support/test-server';
import { quietLogs, restoreLogs } from './support/scenario';
import { errorOf } from '../support/errors';

/** The real process: Node's TLS code reads the real `process.env`, not jest's copy of it. */
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

describe('security', () => {
  afterAll(() => restoreLogs());

  describe('(a) the end-of-run log scan', () => {
    it("tees Nest log lines of every level into this run's scan file", () => {
      const canary = `canary-${process.pid}-${Date.now()}`;
      Logger.overrideLogger(['error']); // not printed: the tee sees lines whatever the level
      new Logger('LogTeeCheck').debug(`${canary} debug`);
      Logger.warn(`${canary} static`);
      restoreLogs();
      const file = path.join(runDir(), `${process.pid}.log`);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain(`${canary} debug`);
      expect(text).toContain(`${canary} static`);
    });

    it('finds each secret and any JWT signed with the test secret, naming the file and line count, never the value', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-scan-'));
      try {
        const minted = jwt.sign({ sub: 'service:x' }, SECRETS.serviceTokenSecret, {
          algorithm: 'HS256',
          expiresIn: 60,
        });
        const foreign = jwt.sign({ sub: 'service:x' }, 'another-secret', { algorithm: 'HS256' });
        fs.writeFileSync(
          path.join(dir, '1.log'),
          `ok line\nkey ${SECRETS.apiKey}\nagain ${SECRETS.apiKey}\nbearer ${minted}\nforeign ${foreign}\n`,
        );
        fs.writeFileSync(path.join(dir, '2.log'), `token=${SECRETS.daprApiToken}\n`);
        const findings = scanLogDir(dir);
        expect(findings).toEqual(
          expect.arrayContaining([
            { secret: 'apiKey', file: path.join(dir, '1.log'), lines: 2 },
            { secret: 'service-jwt', file: path.join(dir, '1.log'), lines: 1 },
            { secret: 'daprApiToken', file: path.join(dir, '2.log'), lines: 1 },
          ]),
        );
        expect(findings).toHaveLength(3);
        const message = describeFindings(findings);
        expect(message).toMatch(/secret "apiKey" in .*1\.log \(2 lines\)/);
        for (const value of [...Object.values(SECRETS), minted]) expect(message).not.toContain(value);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('(b) credentials never follow a redirect', () => {
    let server: TestServer;
    let elsewhere: TestServer;
    let app: TestingModule;

    beforeAll(async () => {
      elsewhere = await startTestServer((req, res) => json(res, 200, { stolen: req.headers }));
      server = await startTestServer((req, res) => {
        const status = Number((req.url ?? '').split('/')[1]) || 307;
        res.writeHead(status, { Location: `${elsewhere.url}/collect${req.url}` });
        res.end();
      });
      quietLogs();
      app = await bootKugelComms({
        services: { peer: server.url },
        dapr: { httpEndpoint: server.url, apiToken: SECRETS.daprApiToken, waitForSidecarMs: 0, retries: 0 },
      });
      quietLogs();
    });
    afterAll(async () => {
      await app?.close();
      await server?.close();
      await elsewhere?.close();
    });

    it.each([301, 302, 303, 307, 308])(
      'REST: a %i answer is an HttpClientError; the other host sees nothing',
      async (status) => {
        const client = app.get(HttpClientHelper).getServiceClient('peer');
        const headers = { 'X-API-KEY': SECRETS.apiKey, Authorization: `Bearer ${SECRETS.jwt}` };
        const get = await errorOf(client.get(`/${status}/item`, { headers }));
        const post = await errorOf(client.post(`/${status}/item`, { a: 1 }, { headers, idempotent: true }));
        for (const e of [get, post]) {
          expect(e.statusCode).toBe(status);
          expect(e.attempts).toBe(1);
        }
        expect(elsewhere.requests).toHaveLength(0);
      },
    );

    it('sidecar: a redirecting sidecar gets a reported failure; the token never reaches the other host', async () => {
      const dapr = app.get(DaprClientHelper);
      const results = [
        await dapr.detailed.publishEvent('pubsub', 'orders', { a: 1 }),
        await dapr.detailed.saveState('statestore', 'k', 1),
        await dapr.detailed.getState('statestore', 'k'),
        await dapr.detailed.deleteState('statestore', 'k'),
      ];
      for (const r of results) {
        teeToScan(`[security] ${JSON.stringify(r)}`);
        expect(r).toMatchObject({ ok: false, status: 307 });
      }
      const sidecarCalls = server.requests.filter((r) => r.url.startsWith('/v1.0/'));
      expect(sidecarCalls).toHaveLength(4);
      expect(sidecarCalls.every((r) => r.headers['dapr-api-token'] === SECRETS.daprApiToken)).toBe(true);
      expect(elsewhere.requests).toHaveLength(0);
    });
  });

  describe('(c) TLS verification cannot be turned off by accident', () => {
    let server: https.Server;
    let url: string;
    const seen: string[] = [];
    let certDir: string | undefined;

    beforeAll(async () => {
      const { key, cert } = selfSignedCert();
      server = https.createServer({ key, cert }, (req, res) => {
        seen.push(req.url ?? '');
        json(res, 200, { tls: true });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
    });

    /** A self-signed certificate for 127.0.0.1: made with `openssl` when there is one, else the committed fixture. */
    function selfSignedCert(): { key: Buffer; cert: Buffer } {
      const fixtures = path.join(__dirname, 'fixtures');
      try {
        certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-tls-'));
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-keyout',
            path.join(certDir, 'key.pem'),
            '-out',
            path.join(certDir, 'cert.pem'),
            '-days',
            '1',
            '-subj',
            '/CN=127.0.0.1',
            '-addext',
            'subjectAltName=IP:127.0.0.1',
          ],
          { stdio: 'ignore' },
        );
        return {
          key: fs.readFileSync(path.join(certDir, 'key.pem')),
          cert: fs.readFileSync(path.join(certDir, 'cert.pem')),
        };
      } catch {
        return {
          key: fs.readFileSync(path.join(fixtures, 'self-signed.key')),
          cert: fs.readFileSync(path.join(fixtures, 'self-signed.crt')),
        };
      }
    }

    async function callWith(options: { insecureSkipTlsVerify?: boolean }): Promise<unknown> {
      quietLogs();
      const app = await bootKugelComms({
        services: { secure: { baseUrl: url, retries: 0 } },
        http: options,
        dapr: { httpEndpoint: url, waitForSidecarMs: 0, retries: 0 },
      });
      quietLogs();
      try {
        return await app.get(HttpClientHelper).getServiceClient('secure').get('/tls');
      } finally {
        await app.close();
      }
    }

    it('the default configuration refuses a self-signed certificate before any request is sent', async () => {
      const before = seen.length;
      const error = await errorOf(callWith({}));
      expect(error).toBeInstanceOf(HttpClientError);
      expect(error.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
      expect(error.attempts).toBe(1);
      expect(seen.length).toBe(before);
    });

    it('NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment does not turn verification off (REST and sidecar)', async () => {
      const previous = realProcess.env.NODE_TLS_REJECT_UNAUTHORIZED;
      realProcess.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      try {
        // Control: a plain node:https client does accept the certificate under this variable.
        const plain = await new Promise<number>((resolve, reject) => {
          https
            .get(`${url}/plain`, { agent: false }, (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            })
            .on('error', reject);
        });
        expect(plain).toBe(200);
        const before = seen.length;
        const error = await errorOf(callWith({}));
        expect(error.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
        quietLogs();
        const app = await bootKugelComms({ dapr: { httpEndpoint: url, waitForSidecarMs: 0, retries: 0 } });
        quietLogs();
        try {
          const result = await app.get(DaprClientHelper).detailed.publishEvent('pubsub', 'orders', { a: 1 });
          expect(result).toMatchObject({ ok: false, code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/) });
        } finally {
          await app.close();
        }
        expect(seen.length).toBe(before);
      } finally {
        if (previous === undefined) delete realProcess.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else realProcess.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      }
    });

    it('only http.insecureSkipTlsVerify: true accepts it', async () => {
      const before = seen.length;
      await expect(callWith({ insecureSkipTlsVerify: true })).resolves.toEqual({ tls: true });
      expect(seen.length).toBe(before + 1);
    });
  });

  describe('(d) service JWTs: pinned algorithm, bounded lifetime', () => {
    it.each([
      [
        'algorithm "none"',
        { algorithm: 'none' },
        /"auth\.serviceToken\.algorithm".*"none" is never allowed.*got "none"/,
      ],
      ['an unknown algorithm', { algorithm: 'HS1' }, /"auth\.serviceToken\.algorithm".*got "HS1"/],
      [
        'a lifetime over an hour',
        { expiresInMs: 3_601_000 },
        /"auth\.serviceToken\.expiresInMs" must be from 1000 to 3600000 \(a second to an hour\); got 3601000/,
      ],
      [
        'a day-long lifetime',
        { expiresInMs: 86_400_000 },
        /"auth\.serviceToken\.expiresInMs" must be from 1000 to 3600000 \(a second to an hour\); got 86400000/,
      ],
      ['a zero lifetime', { expiresInMs: 0 }, /"auth\.serviceToken\.expiresInMs".*got 0/],
    ])('boot refuses %s', async (_what, extra, message) => {
      let error: unknown;
      try {
        const app = await bootKugelComms({
          auth: { serviceToken: { secret: SECRETS.serviceTokenSecret, ...(extra as object) } },
          dapr: { waitForSidecarMs: 0 },
        });
        await app.close();
      } catch (e) {
        error = e;
      }
      quietLogs();
      teeToScan(`[security] ${String(error)}`);
      expect(isInvalidOptionsError(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(SECRETS.serviceTokenSecret);
    });

    it('the longest allowed token lives one hour, signed with the configured algorithm only', async () => {
      const app = await bootKugelComms({
        auth: { serviceToken: { secret: SECRETS.serviceTokenSecret, algorithm: 'HS384', expiresInMs: 3_600_000 } },
        dapr: { waitForSidecarMs: 0 },
      });
      quietLogs();
      try {
        const token = app.get(ServiceTokenService).createServiceToken('T1', 'cart');
        const decoded = jwt.decode(token, { complete: true })!;
        expect(decoded.header.alg).toBe('HS384');
        const claims = decoded.payload as jwt.JwtPayload;
        // iat is set 30 s back (a receiver's clock may be behind); the hour runs from now.
        expect(claims.exp! - claims.iat!).toBe(3600 + 30);
        expect(() => jwt.verify(token, SECRETS.serviceTokenSecret, { algorithms: ['HS256'] })).toThrow(
          /invalid algorithm/,
        );
      } finally {
        await app.close();
      }
    });
  });

  describe('(e) the sidecar token is sent on every sidecar call', () => {
    it('publish, save, get, delete, bulk, transaction, the start-up wait, the health probe and service invocation all carry dapr-api-token', async () => {
      const sidecar = await startTestServer((req, res) => {
        const url = req.url ?? '';
        if (url.startsWith('/v1.0/healthz')) return void res.writeHead(204).end();
        if (url.startsWith('/v1.0/state/statestore/bulk')) return json(res, 200, [{ key: 'k', data: 'v' }]);
        if (req.method === 'GET' && url.startsWith('/v1.0/state/')) return json(res, 200, 'v', { ETag: '1' });
        if (url.startsWith('/v1.0/invoke/')) return json(res, 200, { invoked: true });
        res.writeHead(204).end();
      });
      quietLogs();
      const app = await bootKugelComms({
        dapr: {
          httpEndpoint: sidecar.url,
          apiToken: SECRETS.daprApiToken,
          waitForSidecarMs: 5_000,
          serviceInvocation: true,
        },
      });
      quietLogs();
      try {
        const dapr = app.get(DaprClientHelper);
        await expect(dapr.publishEvent('pubsub', 'orders', { a: 1 })).resolves.toBe(true);
        await expect(dapr.saveState('statestore', 'k', 'v')).resolves.toBe(true);
        await expect(dapr.getState('statestore', 'k')).resolves.toBe('v');
        await expect(dapr.deleteState('statestore', 'k', { etag: '1' })).resolves.toBe(true);
        await expect(dapr.getBulkState('statestore', ['k'])).resolves.toEqual({ k: 'v' });
        await expect(
          dapr.executeStateTransaction('statestore', [{ operation: 'upsert', request: { key: 'k', value: 1 } }]),
        ).resolves.toBe(true);
        await expect(dapr.checkSidecarHealth()).resolves.toMatchObject({ healthy: true });
        await expect(app.get(HttpClientHelper).getServiceClient('other-app').get('/x')).resolves.toEqual({
          invoked: true,
        });
        const kinds = (r: RecordedRequest) => `${r.method} ${r.url.split('?')[0].replace(/\/k$/, '/:key')}`;
        expect(new Set(sidecar.requests.map(kinds))).toEqual(
          new Set([
            'GET /v1.0/healthz/outbound',
            'POST /v1.0/publish/pubsub/orders',
            'POST /v1.0/state/statestore',
            'GET /v1.0/state/statestore/:key',
            'DELETE /v1.0/state/statestore/:key',
            'POST /v1.0/state/statestore/bulk',
            'POST /v1.0/state/statestore/transaction',
            'GET /v1.0/healthz',
            'GET /v1.0/invoke/other-app/method/x',
          ]),
        );
        const without = sidecar.requests.filter((r) => r.headers['dapr-api-token'] !== SECRETS.daprApiToken).map(kinds);
        expect(without).toEqual([]);
      } finally {
        await app.close();
        await sidecar.close();
      }
    });
  });
});
