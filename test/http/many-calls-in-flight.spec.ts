import { TestingModule } from '@nestjs/testing';
import * as vm from 'node:vm';
import { DaprClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { startTestServer, TestServer } from '../support/test-server';

/** The real process (jest hands each test file a copy whose events never fire). */
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

/**
 * Every sidecar call in flight listens to the client's shutdown signal: fifty at once must not
 * trip Node's "possible EventTarget memory leak" warning (more than ten listeners on one signal).
 */
describe('many sidecar calls in flight at once', () => {
  let sidecar: TestServer;
  let app: TestingModule;
  beforeAll(async () => {
    sidecar = await startTestServer((req, res) => void setTimeout(() => res.writeHead(204).end(), 100));
    app = await bootKugelComms({ dapr: { httpEndpoint: sidecar.url, waitForSidecarMs: 0, maxSockets: 64 } });
  });
  afterAll(async () => {
    await app?.close();
    await sidecar?.close();
  });

  it('fifty calls at once: all answered, no listener warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    realProcess.on('warning', onWarning);
    try {
      const dapr = app.get(DaprClientHelper);
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => dapr.saveState('statestore', `k-${i}`, { i })),
      );
      expect(results.every(Boolean)).toBe(true);
      await new Promise((r) => setImmediate(r));
    } finally {
      realProcess.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([]);
  });
});
