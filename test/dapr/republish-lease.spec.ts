import { Logger } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { DaprClientHelper, EventRepublisher, EventRepublishers } from '../../lib';
import { InMemoryRepublishSource } from '../../lib/testing';
import { PassLease } from '../../lib/republish/pass-lease';
import { DaprDedupeStore } from '../../lib/claims/dapr-dedupe.store';
import { bootKugelComms } from '../support/module-fixture';
import { waitUntil } from '../support/processes';
import { Daprd } from './daprd';
import { startSubscriber, Subscriber } from './subscriber';

const EVENTS = 20;
const LEASE_SEC = 4;

/**
 * Three replicas of one service, each with its own republisher "orders" over the same database of
 * undelivered events (one source object here), publishing through daprd to a subscriber that
 * counts deliveries per event id. The replicas share one sidecar and its state store, as replicas
 * share a database-backed store in production.
 */
describe('one republish pass across three replicas (RepublisherOptions.lease), on a real daprd', () => {
  let subscriber: Subscriber;
  let daprd: Daprd;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    subscriber = await startSubscriber('orders', '/orders');
    daprd = await Daprd.start({ appPort: subscriber.server.port, appId: 'kugel-republish-lease' });
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await daprd?.dispose();
    await subscriber?.server.close();
  });

  /** A fresh database of undelivered events, old enough to be republished. */
  function outbox(prefix: string): InMemoryRepublishSource {
    const source = new InMemoryRepublishSource();
    for (let n = 0; n < EVENTS; n++) {
      source.add(
        { eventId: `${prefix}-${n}`, pubsub: 'pubsub', topic: 'orders', data: { n }, createdAt: Date.now() - 600_000 },
        ['report'],
      );
    }
    return source;
  }

  async function replicas(source: InMemoryRepublishSource, lease?: { store: string; leaseSec: number }) {
    const out: EventRepublisher[] = [];
    for (let i = 0; i < 3; i++) {
      const app = await bootKugelComms({
        dapr: { httpEndpoint: daprd.httpEndpoint, waitForSidecarMs: 5_000, timeoutMs: 1_000 },
      });
      apps.push(app);
      // minAgeMs: an event published by one pass is not taken again by the next one a moment later.
      out.push(
        app.get(EventRepublishers).register('orders', { source, minAgeMs: 60_000, intervalMs: 3_600_000, lease }),
      );
    }
    return out;
  }

  const deliveriesOf = (prefix: string) => {
    const counts = new Map<string, number>();
    for (const e of subscriber.events) {
      const id = String(e.id);
      if (id.startsWith(`${prefix}-`)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  };

  it('without a lease: each replica runs its pass, and every undelivered event is published three times', async () => {
    const reps = await replicas(outbox('before'));
    const passes = await Promise.all(reps.map((r) => r.runNow()));
    expect(passes.map((p) => p.published)).toEqual([EVENTS, EVENTS, EVENTS]);
    await waitUntil(
      async () => subscriber.events.filter((e) => String(e.id).startsWith('before-')).length >= 3 * EVENTS,
      15_000,
      'deliveries',
    );
    const counts = deliveriesOf('before');
    expect(counts.size).toBe(EVENTS);
    expect([...counts.values()].every((c) => c === 3)).toBe(true);
  });

  it('with a lease: one pass at a time across the replicas, each undelivered event published once; the others skip', async () => {
    const reps = await replicas(outbox('after'), { store: 'statestore', leaseSec: LEASE_SEC });
    const passes = await Promise.all(reps.map((r) => r.runNow()));
    expect(passes.map((p) => p.published).sort()).toEqual([0, 0, EVENTS]);
    const skipped = passes.filter((p) => p.published === 0);
    for (const p of skipped) {
      // Skipped while the first held the lease, or ran after it and found nothing old enough.
      expect(p.error).toBeUndefined();
      expect(p.found === 0 || p.leaseHeldBy !== undefined).toBe(true);
    }
    await waitUntil(async () => deliveriesOf('after').size === EVENTS, 15_000, 'deliveries');
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would have arrived by now
    expect([...deliveriesOf('after').values()].every((c) => c === 1)).toBe(true);
    // The lease is released after the pass: nothing is left under its key.
    expect(await apps[0].get(DaprClientHelper).getState('statestore', 'kugel-republish|orders')).toBeNull();
  });

  it('a replica that dies mid-pass holds the lease until it is over; then another takes it over and republishes', async () => {
    const source = outbox('crash');
    const reps = await replicas(source, { store: 'statestore', leaseSec: LEASE_SEC });
    // A replica takes the lease and dies (it never renews nor releases it).
    const dead = new PassLease(
      'orders',
      { store: 'statestore', leaseMs: LEASE_SEC * 1000, writeBudgetMs: 1_000 },
      new DaprDedupeStore(apps.at(-1)!.get(DaprClientHelper)),
      new Logger('dead-replica'),
    );
    const taken = await dead.take(() => undefined);
    if (!taken.held) throw new Error('the dead replica did not get the lease');
    taken.abandon(); // it died: no renewal, no release
    const blocked = await reps[0].runNow();
    expect(blocked).toMatchObject({ published: 0, leaseHeldBy: dead.owner });
    await new Promise((r) => setTimeout(r, LEASE_SEC * 1000 + 200));
    const after = await reps[1].runNow();
    expect(after.published).toBe(EVENTS);
    await waitUntil(async () => deliveriesOf('crash').size === EVENTS, 15_000, 'deliveries');
  }, 30_000);
});
