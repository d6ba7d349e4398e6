import { TestingModule } from '@nestjs/testing';
import { DaprClientHelper, PubsubManager, StateStoreManager } from '../../lib';
import { FakeDate, fakeDate } from '../support/fake-date';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

describe('PubsubManager and StateStoreManager on a real daprd (in-memory components)', () => {
  let subscriber: Subscriber;
  let daprd: Daprd;
  let app: TestingModule;
  let pubsub: PubsubManager;
  let state: StateStoreManager;

  beforeAll(async () => {
    subscriber = await startSubscriber('topic-tranlog', '/tranlog');
    daprd = await Daprd.start({ appPort: subscriber.server.port });
    app = await bootKugelComms({
      dapr: {
        httpEndpoint: daprd.httpEndpoint,
        waitForSidecarMs: 5000,
        retries: 0,
        breaker: { failureThreshold: 100 },
      },
    });
    pubsub = app.get(PubsubManager);
    state = app.get(StateStoreManager);
  });

  afterAll(async () => {
    await app?.close();
    await daprd?.dispose();
    await subscriber?.server.close();
  });

  it('publishes a message that the subscribing app receives intact', async () => {
    const message = {
      eventId: 'evt-1',
      tenantId: 'T1',
      transactionNo: 42,
      lineItems: [{ itemCode: 'a/b?c', quantity: 2 }],
    };
    await expect(pubsub.publishMessage('pubsub', 'topic-tranlog', message)).resolves.toEqual({
      ok: true,
    });
    await waitUntil(async () => subscriber.events.length > 0, 10_000, 'event delivery');
    expect(subscriber.events[0].data).toEqual(message);
    expect(subscriber.events[0].topic).toBe('topic-tranlog');
  });

  it('answers ok:false with an error for an unknown pub/sub, without throwing', async () => {
    const result = await pubsub.publishMessage('no-such-pubsub', 'topic-tranlog', { eventId: 'x' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/no-such-pubsub/);
  });

  it('round-trips state and tells a missing key apart with found:false', async () => {
    const value = { event_id: 'evt-1', processedAt: '2024-04-01T10:00:00Z' };
    await expect(state.saveState('evt-1', value)).resolves.toEqual({ ok: true });
    await expect(state.getState('evt-1')).resolves.toEqual({ ok: true, found: true, data: value });
    await expect(state.getState('evt-never-seen')).resolves.toEqual({ ok: true, found: false });
    // the manager uses the configured store (statestore by default)
    await expect(app.get(DaprClientHelper).getState('statestore', 'evt-1')).resolves.toEqual(value);
    await expect(state.deleteState('evt-1')).resolves.toEqual({ ok: true });
    await expect(state.getState('evt-1')).resolves.toEqual({ ok: true, found: false });
  });

  it('round-trips falsy values (0, false, "") as found', async () => {
    for (const [key, value] of [
      ['zero', 0],
      ['no', false],
      ['empty', ''],
    ] as const) {
      await expect(state.saveState(key, value)).resolves.toEqual({ ok: true });
      await expect(state.getState(key)).resolves.toEqual({ ok: true, found: true, data: value });
    }
  });

  it('answers ok:false (no throw) for a key Dapr cannot take ("||", "..")', async () => {
    const result = await state.saveState('a||b', 1);
    expect(result.ok).toBe(false);
    const read = await state.getState('..');
    expect(read.ok).toBe(false);
  });
});

describe('StateStoreManager and PubsubManager with the sidecar killed', () => {
  let daprd: Daprd;
  let app: TestingModule;
  let clock: FakeDate | undefined;
  afterAll(async () => {
    clock?.restore();
    await app?.close();
    await daprd?.dispose();
  });

  it('reports an outage as ok:false with an error — never as found:false — and recovers when daprd is back', async () => {
    daprd = await Daprd.start();
    // The breaker's reset timeout passes when the test says so (after daprd is back), not while a
    // busy machine is still making the calls that must see it open.
    clock = fakeDate();
    const RESET_MS = 60_000;
    app = await bootKugelComms({
      dapr: {
        httpEndpoint: daprd.httpEndpoint,
        waitForSidecarMs: 0,
        retries: 1,
        timeoutMs: 2000,
        breaker: { failureThreshold: 3, resetTimeoutMs: RESET_MS },
      },
      http: { backoff: { initialDelayMs: 1 } },
      repositories: { stateStore: 'statestore' },
    });
    const state = app.get(StateStoreManager);
    const pubsub = app.get(PubsubManager);
    await expect(state.saveState('evt-before', { done: true })).resolves.toEqual({ ok: true });

    await daprd.kill();
    const read = await state.getState('evt-before');
    expect(read).toEqual({ ok: false, error: expect.stringMatching(/ECONNREFUSED/), code: 'ECONNREFUSED' });
    expect(read).not.toHaveProperty('found');
    const missing = await state.getState('evt-unknown');
    expect(missing.ok).toBe(false);
    const save = await state.saveState('evt-during', { done: true });
    expect(save).toEqual({ ok: false, error: expect.any(String), code: expect.any(String) });
    const published = await pubsub.publishMessage('pubsub', 'topic-tranlog', { eventId: 'e' });
    expect(published).toEqual({ ok: false, error: expect.stringMatching(/ECONNREFUSED/), code: 'ECONNREFUSED' });
    // the state breaker is open now: still ok:false (circuit open), still not found:false
    const refused = await state.getState('evt-before');
    expect(refused).toEqual({
      ok: false,
      error: expect.stringMatching(/circuit .* is open/),
      code: 'ERR_CIRCUIT_OPEN',
    });

    await daprd.startProcess();
    await expect(state.getState('evt-before')).resolves.toEqual({
      ok: false,
      error: expect.stringMatching(/circuit .* is open/),
      code: 'ERR_CIRCUIT_OPEN',
    });
    clock.advance(RESET_MS);
    await waitUntil(async () => (await state.saveState('evt-after', 1)).ok, 10_000, 'state store back');
    // the in-memory store lost its data with the process: a real "no such key" now
    await expect(state.getState('evt-before')).resolves.toEqual({ ok: true, found: false });
    await expect(state.getState('evt-after')).resolves.toEqual({ ok: true, found: true, data: 1 });
  });
});
