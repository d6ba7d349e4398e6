import { Test } from '@nestjs/testing';
import {
  HttpClientHelper,
  KugelCommsEvents,
  KugelCommsModule,
  KugelCommsModuleOptions,
  RetryScheduledEvent,
} from '../../lib';
import { errorOf } from '../support/errors';
import { captureLogs } from '../support/log-capture';
import { json, startTestServer, TestServer } from '../support/test-server';

/**
 * The old option names at boot: an app configured with them boots, logs one WARN per old option
 * naming the new one, and behaves as the new names would (the retry delays a peer sees).
 */
describe('renamed options at boot (one warning each, same behaviour)', () => {
  let peer: TestServer;
  const logs = captureLogs();

  beforeAll(async () => {
    peer = await startTestServer((req, res) => json(res, 503, {}));
  });
  afterAll(async () => {
    logs.restore();
    await peer.close();
  });

  /** The delays of the retries of one call that the peer answers 503 to. */
  async function retryDelays(options: KugelCommsModuleOptions): Promise<number[]> {
    // The app's logger from the start, as an app's own would be: the options are read while the
    // module compiles.
    const app = await Test.createTestingModule({
      imports: [
        KugelCommsModule.forRoot({
          ...options,
          services: { a: { baseUrl: peer.url, retries: 4 }, b: peer.url },
          dapr: { waitForSidecarMs: 0, ...options.dapr },
        }),
      ],
    })
      .setLogger(logs.logger)
      .compile();
    await app.init();
    const scheduled: RetryScheduledEvent[] = [];
    app.get(KugelCommsEvents).retryScheduled.on((e) => scheduled.push(e));
    try {
      await errorOf(app.get(HttpClientHelper).getServiceClient('a').get('/x'));
      return scheduled.map((e) => e.delayMs);
    } finally {
      await app.close();
    }
  }

  const deprecations = () =>
    logs.logger.lines.filter((l) => l.level === 'warn' && l.text.includes('is deprecated')).map((l) => l.text);

  it('boots with the old names: one WARN per old option, naming the old and the new option', async () => {
    const old: KugelCommsModuleOptions = {
      http: { retryDelayMs: 20, maxRetryDelayMs: 40, retryBudget: false },
      dapr: { retryDelayMs: 5 },
      repositories: { cacheTtlSec: 1 },
    };
    const oldDelays = await retryDelays(old);
    await retryDelays(old); // a second boot in the same process: no second warning
    expect(deprecations()).toEqual([
      expect.stringMatching(
        /\[KugelCommsModule\] option http\.retryDelayMs is deprecated.*use http\.backoff\.initialDelayMs/,
      ),
      expect.stringMatching(
        /\[KugelCommsModule\] option http\.maxRetryDelayMs is deprecated.*use http\.backoff\.maxDelayMs/,
      ),
      expect.stringMatching(
        /\[KugelCommsModule\] option dapr\.retryDelayMs is deprecated.*use dapr\.backoff\.initialDelayMs/,
      ),
      expect.stringMatching(
        /\[KugelCommsModule\] option repositories\.cacheTtlSec is deprecated.*use repositories\.cacheTtlMs/,
      ),
    ]);
    // The same delays as http.backoff { initialDelayMs: 20, maxDelayMs: 40 }: steps 20, 40, 40, 40,
    // each minus up to 20 %.
    expect(oldDelays).toHaveLength(4);
    [20, 40, 40, 40].forEach((step, i) => {
      expect(oldDelays[i]).toBeGreaterThanOrEqual(step * 0.8);
      expect(oldDelays[i]).toBeLessThanOrEqual(step);
    });
    const newDelays = await retryDelays({
      http: { backoff: { initialDelayMs: 20, maxDelayMs: 40 }, retryBudget: false },
    });
    [20, 40, 40, 40].forEach((step, i) => {
      expect(newDelays[i]).toBeGreaterThanOrEqual(step * 0.8);
      expect(newDelays[i]).toBeLessThanOrEqual(step);
    });
    expect(deprecations()).toHaveLength(4);
  });
});
