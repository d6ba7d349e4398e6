import { Daprd } from '../dapr/daprd';
import { startSubscriber, Subscriber } from '../dapr/subscriber';
import { waitUntil } from '../support/processes';
import { closedPort, json, startTestServer, TestServer } from '../support/test-server';
import { buildApp, CompatAppName, installedApp, runModuleScript, runToExit, startApp } from './compat-apps';

/**
 * The packed kugel-comms, installed without --legacy-peer-deps (test/compat/install.sh) into a
 * Nest 11 app (CommonJS) and a Nest 12 app (ESM). Each app boots `forRootAsync` with
 * `ConfigService`, injects pooled clients with `forFeature`/`@InjectServiceClient` (and an
 * `HttpService` with `@InjectHttpService`), calls a real peer, publishes through a real daprd to a
 * real subscriber, answers `/health/ready` through terminus, and ends with exit code 0 on SIGTERM;
 * and an app's own unit test runs on it with `kugel-comms/testing`.
 */
const APPS: Array<{ app: CompatAppName; format: string; nest: RegExp; terminus: RegExp; degraded: boolean }> = [
  { app: 'nest11', format: 'commonjs', nest: /^11\./, terminus: /^11\./, degraded: false },
  { app: 'nest12', format: 'module', nest: /^12\./, terminus: /^12\./, degraded: true },
];

interface HealthBody {
  status: string;
  info?: Record<string, { status: string; message?: string; breakers?: Record<string, Record<string, unknown>> }>;
  error?: Record<string, { status: string; message?: string }>;
}

describe('one package for Nest 11 and Nest 12', () => {
  let peer: TestServer;
  let subscriber: Subscriber;
  let daprd: Daprd;
  beforeAll(async () => {
    peer = await startTestServer((req, res) => {
      if (req.url?.startsWith('/md/items/')) return json(res, 200, { code: req.url.split('/').pop(), name: 'Coffee' });
      json(res, 503, { message: 'unavailable' }); // pricing and stock: every call fails
    });
    subscriber = await startSubscriber('compat');
    daprd = await Daprd.start({ appPort: subscriber.server.port });
  }, 60_000);
  afterAll(async () => {
    await daprd?.dispose();
    await subscriber?.server.close();
    await peer?.close();
  });

  const env = (extra: Record<string, string> = {}) => ({
    MASTER_DATA_URL: `${peer.url}/md`,
    PRICING_URL: `${peer.url}/pricing`,
    STOCK_URL: `${peer.url}/stock`,
    DAPR_HTTP_ENDPOINT: daprd.httpEndpoint,
    ...extra,
  });
  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const ready = async (url: string) => {
    const res = await fetch(`${url}/health/ready`);
    return { status: res.status, body: (await res.json()) as HealthBody };
  };

  describe.each(APPS)('$app ($format)', ({ app, format, nest, terminus, degraded }) => {
    let dir: string;
    beforeAll(() => {
      dir = installedApp(app);
      buildApp(app, dir);
    }, 120_000);

    it('import and require reach one copy of the package (the exports map, one KugelCommsModule)', () => {
      const out = runModuleScript(
        dir,
        `
        import { createRequire } from 'node:module';
        import * as esm from 'kugel-comms';
        const require = createRequire(process.cwd() + '/');
        import * as esmTesting from 'kugel-comms/testing';
        const cjs = require('kugel-comms');
        const cjsTesting = require('kugel-comms/testing');
        const names = Object.keys(esm).sort();
        const testingNames = Object.keys(esmTesting).sort();
        import * as esmKugelpos from 'kugel-comms/kugelpos';
        const cjsKugelpos = require('kugel-comms/kugelpos');
        const kugelposNames = Object.keys(esmKugelpos).sort();
        console.log(JSON.stringify({
          importPath: import.meta.resolve('kugel-comms'),
          requirePath: require.resolve('kugel-comms'),
          testingImportPath: import.meta.resolve('kugel-comms/testing'),
          testingRequirePath: require.resolve('kugel-comms/testing'),
          sameModule: esm.KugelCommsModule === cjs.KugelCommsModule,
          names,
          cjsNames: Object.keys(cjs).filter((n) => n !== '__esModule').sort(),
          notSame: names.filter((n) => esm[n] !== cjs[n]),
          testingNames,
          testingNotSame: testingNames.filter((n) => esmTesting[n] !== cjsTesting[n]),
          kugelposImportPath: import.meta.resolve('kugel-comms/kugelpos'),
          kugelposRequirePath: require.resolve('kugel-comms/kugelpos'),
          kugelposNames,
          kugelposNotSame: kugelposNames.filter((n) => esmKugelpos[n] !== cjsKugelpos[n]),
        }));
        `,
      );
      const r = JSON.parse(out) as Record<string, unknown>;
      expect(r.importPath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/index\.mjs$/);
      expect(r.requirePath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/index\.js$/);
      expect(r.sameModule).toBe(true);
      expect(r.notSame).toEqual([]);
      expect(r.names).toEqual(r.cjsNames);
      expect(r.names).toEqual(
        expect.arrayContaining([
          'KugelCommsModule',
          'InjectServiceClient',
          'getServiceClientToken',
          'InjectHttpService',
          'HttpClientHelper',
        ]),
      );
      // The testing subpath: its own entry for import and require, one copy of its classes.
      expect(r.testingImportPath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/testing\/index\.mjs$/);
      expect(r.testingRequirePath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/testing\/index\.js$/);
      expect(r.testingNames).toEqual(expect.arrayContaining(['KugelCommsTestingModule', 'KugelCommsTesting']));
      expect(r.testingNotSame).toEqual([]);
      // The kugelpos subpath, the same way.
      expect(r.kugelposImportPath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/kugelpos\/index\.mjs$/);
      expect(r.kugelposRequirePath).toMatch(/\/node_modules\/kugel-comms\/dist\/lib\/kugelpos\/index\.js$/);
      expect(r.kugelposNames).toEqual(expect.arrayContaining(['terminalAuth', 'rollUpDeliveryStatus']));
      expect(r.kugelposNotSame).toEqual([]);
    });

    it("an app's own unit test with kugel-comms/testing: peers stubbed, Dapr in memory, a breaker forced open", async () => {
      const down = `http://127.0.0.1:${await closedPort()}`;
      const out = runModuleScript(
        dir,
        `
        import { unitCheck } from './dist/unit-check.js';
        console.log('UNIT_CHECK ' + JSON.stringify(await unitCheck()));
        process.exit(0);
        `,
        { MASTER_DATA_URL: down, PRICING_URL: down, STOCK_URL: down, DAPR_HTTP_ENDPOINT: down },
      );
      const line = out.split('\n').find((l) => l.startsWith('UNIT_CHECK '));
      expect(line).toBeDefined();
      expect(JSON.parse(line!.slice('UNIT_CHECK '.length))).toEqual({
        item: { status: 200, body: { code: 'A1', name: 'Stubbed' } },
        itemRx: { status: 200, body: { code: 'B2', name: 'Stubbed' } },
        published: { status: 201, body: { published: true } },
        events: [{ from: 'unit' }],
        calls: ['GET /items/A1', 'GET /items/B2'],
        stock: { status: 502, body: { code: 'ERR_CIRCUIT_OPEN' } },
        ready: 503,
      });
    }, 60_000);

    it('boots, calls a peer, publishes through daprd, answers /health/ready and exits 0 on SIGTERM', async () => {
      const running = await startApp(dir, env(degraded ? { DEGRADED_BREAKERS: 'http:pricing' } : {}));
      let stopped = false;
      try {
        expect(running.info).toMatchObject({ format });
        expect(running.info.nest).toMatch(nest);
        expect(running.info.terminus).toMatch(terminus);

        // A peer through an injected pooled client, and through its HttpService (@nestjs/axios).
        await expect(get(`${running.url}/items/A%2F1`)).resolves.toEqual({
          status: 200,
          body: { code: 'A%2F1', name: 'Coffee' },
        });
        await expect(get(`${running.url}/items-rx/B%2F2`)).resolves.toEqual({
          status: 200,
          body: { code: 'B%2F2', name: 'Coffee' },
        });

        // A publish that daprd delivers to its subscriber.
        const publish = await fetch(`${running.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ from: app, n: 1 }),
        });
        expect(publish.status).toBe(201);
        expect(await publish.json()).toEqual({ published: true });
        await waitUntil(
          async () => subscriber.events.some((e) => (e.data as { from?: string })?.from === app),
          15_000,
          `the ${app} event at the subscriber`,
        );

        // Ready: every breaker closed, the sidecar up.
        const healthy = await ready(running.url);
        expect(healthy.status).toBe(200);
        expect(healthy.body.status).toBe('ok');
        expect(healthy.body.info?.['dapr-sidecar']).toEqual({ status: 'up' });
        expect(healthy.body.info?.['circuit-breakers']).toMatchObject({
          status: 'up',
          breakers: {
            'http:pricing': { state: 'closed', critical: false, ...(degraded ? { degraded: true } : {}) },
            'http:stock': { state: 'closed', critical: true },
            'pubsub:pubsub': { state: 'closed', critical: true },
          },
        });

        // A non-critical peer's breaker opens (2 failures, then refused without a request).
        for (const expected of ['5xx', '5xx', 'ERR_CIRCUIT_OPEN']) {
          const r = await get(`${running.url}/prices/p1`);
          expect(r.status).toBe(502);
          expect(r.body.code === 'ERR_CIRCUIT_OPEN' ? 'ERR_CIRCUIT_OPEN' : '5xx').toBe(expected);
        }
        const withOpen = await ready(running.url);
        expect(withOpen.status).toBe(200);
        const breakers = withOpen.body.info?.['circuit-breakers'];
        expect(breakers?.breakers?.['http:pricing']).toMatchObject({ state: 'open' });
        if (degraded) {
          // Terminus 12: still 200, overall status "degraded", the indicator in `info`.
          expect(withOpen.body.status).toBe('degraded');
          expect(breakers).toMatchObject({ status: 'degraded', message: 'open circuit (degraded): http:pricing' });
        } else {
          expect(withOpen.body.status).toBe('ok');
          expect(breakers?.status).toBe('up');
        }

        // A critical peer's breaker opens: 503 with terminus' standard body.
        await get(`${running.url}/stock/s1`);
        await get(`${running.url}/stock/s1`);
        const down = await ready(running.url);
        expect(down.status).toBe(503);
        expect(down.body.status).toBe('error');
        expect(down.body.error?.['circuit-breakers']).toMatchObject({
          status: 'down',
          message: 'open circuit: http:stock',
        });
        expect(down.body.info?.['dapr-sidecar']).toEqual({ status: 'up' });

        stopped = true;
        const exit = await running.stop();
        expect({ exit, closed: running.output.includes('COMPAT_CLOSED') }).toEqual({
          exit: { code: 0, signal: null },
          closed: true,
        });
      } finally {
        if (!stopped) await running.stop(2_000);
      }
    }, 90_000);

    if (!degraded) {
      it('health.degradedBreakers stops boot on terminus 11 with InvalidOptionsError', async () => {
        const run = await runToExit(dir, env({ DEGRADED_BREAKERS: 'http:pricing' }));
        expect(run.code).toBe(1);
        expect(run.output).toContain(
          'COMPAT_BOOT_FAILED InvalidOptionsError: KugelCommsModule option "health.degradedBreakers" needs' +
            ' @nestjs/terminus 12 or newer (the installed @nestjs/terminus has no "degraded" status); got ["http:pricing"]',
        );
      }, 60_000);
    }
  });
});
