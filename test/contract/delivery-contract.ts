import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DaprEvent, DaprSubscribe, DropEvent } from '../../lib';
import { waitUntil } from '../support/processes';
import { CONTRACT_MAX_BODY_BYTES, ContractCase, key, received } from './contract-target';

/** The app's handlers for the delivery half of the contract. */
@Injectable()
export class ContractConsumer {
  readonly events: DaprEvent[] = [];
  readonly deadLetters: DaprEvent[] = [];

  @DaprSubscribe('pubsub', 'contract-events', { deadLetterTopic: 'contract-dlq' })
  onEvent(event: DaprEvent<{ drop?: boolean }>) {
    this.events.push(event);
    if (event.data?.drop) throw new DropEvent('dropped by the contract');
  }

  @DaprSubscribe('pubsub', 'contract-dlq')
  onDeadLetter(event: DaprEvent) {
    this.deadLetters.push(event);
  }
}

/** Delivery: what the app's `@DaprSubscribe` handlers receive. */
export const DAPR_DELIVERY_CONTRACT: ContractCase[] = [
  {
    name: 'a JSON publish reaches the handler as a CloudEvent: data intact, id, type, source = app id, topic',
    async run(t) {
      const consumer = t.consumer!;
      const marker = randomUUID();
      await expect(t.dapr.publishEvent('pubsub', 'contract-events', { marker, text: 'ü/…?#' })).resolves.toBe(true);
      const event = await received(t, () =>
        consumer.events.find((e) => (e.data as { marker?: string })?.marker === marker),
      );
      expect(event).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        data: { marker, text: 'ü/…?#' },
        topic: 'contract-events',
        pubsub: 'pubsub',
        type: 'com.dapr.event.sent',
        source: t.appId,
        dataContentType: 'application/json',
      });
    },
  },
  {
    name: 'a published CloudEvent keeps its id and type',
    async run(t) {
      const consumer = t.consumer!;
      const id = randomUUID();
      const own = {
        id,
        source: 'contract',
        type: 'contract.own',
        specversion: '1.0',
        datacontenttype: 'application/json',
        data: { own: true },
      };
      await expect(t.dapr.publishEvent('pubsub', 'contract-events', own, { cloudEvent: true })).resolves.toBe(true);
      const event = await received(t, () => consumer.events.find((e) => e.id === id));
      expect(event).toMatchObject({ id, type: 'contract.own', source: 'contract', data: { own: true } });
    },
  },
  {
    name: 'a DropEvent answers DROP: the event goes to the dead-letter topic, with its id and original topic',
    async run(t) {
      const consumer = t.consumer!;
      const marker = randomUUID();
      await t.dapr.publishEvent('pubsub', 'contract-events', { marker, drop: true });
      const dropped = await received(t, () =>
        consumer.events.find((e) => (e.data as { marker?: string })?.marker === marker),
      );
      const dead = await received(t, () => consumer.deadLetters.find((e) => e.id === dropped.id));
      expect(dead).toMatchObject({ id: dropped.id, topic: 'contract-events', data: { marker, drop: true } });
    },
  },
  {
    name: 'a publish with eventId, and each bulk entry with its own, reach the handler under that id',
    async run({ dapr, consumer, deliver }) {
      const id = key('event-id');
      expect(await dapr.publishEvent('pubsub', 'contract-events', { single: id }, { eventId: `${id}-single` })).toBe(
        true,
      );
      const bulk = await dapr.detailed.publishBulk('pubsub', 'contract-events', [
        { event: { bulk: id, n: 1 }, eventId: `${id}-b1` },
        { event: { bulk: id, n: 2 }, eventId: `${id}-b2` },
      ]);
      expect(bulk.ok).toBe(true);
      await deliver();
      const mine = () => consumer!.events.filter((e) => String(e.id).startsWith(id));
      await waitUntil(async () => mine().length === 3, 10_000, 'the three events');
      expect(
        mine()
          .map((e) => [e.id, e.data])
          .sort(),
      ).toEqual([
        [`${id}-b1`, { bulk: id, n: 1 }],
        [`${id}-b2`, { bulk: id, n: 2 }],
        [`${id}-single`, { single: id }],
      ]);
    },
  },
  {
    name: 'an own CloudEvent published under its content type in another case (Application/CloudEvents+JSON) keeps its id',
    async run(t) {
      const id = randomUUID();
      const own = { id, source: 'contract', type: 'contract.case', specversion: '1.0', data: { cased: true } };
      const answer = await t.raw(
        'POST',
        '/v1.0/publish/pubsub/contract-events',
        JSON.stringify(own),
        'Application/CloudEvents+JSON',
      );
      expect(answer.status).toBe(204);
      const event = await received(t, () => t.consumer!.events.find((e) => e.id === id));
      expect(event).toMatchObject({ id, type: 'contract.case', source: 'contract', data: { cased: true } });
    },
  },
  {
    name: "an event over the app's subscriptions.maxBodyBytes is answered DROP unread: the handler never runs, it is moved to the dead-letter topic",
    async run(t) {
      const marker = randomUUID();
      const seen = t.handled!.length;
      const big = { marker, padding: 'x'.repeat(CONTRACT_MAX_BODY_BYTES) };
      await expect(t.dapr.publishEvent('pubsub', 'contract-events', big)).resolves.toBe(true);
      const oversize = (topic: string) => () =>
        t
          .handled!.slice(seen)
          .find((h) => h.topic === topic && h.reason === 'invalid' && /maxBodyBytes/.test(h.error ?? ''));
      await waitUntil(
        async () => {
          await t.deliver();
          return oversize('contract-events')() !== undefined && oversize('contract-dlq')() !== undefined;
        },
        15_000,
        'the oversize event and its dead letter to be answered',
        50,
      );
      expect(oversize('contract-events')()).toMatchObject({ status: 'DROP', handlerRan: false });
      expect(oversize('contract-dlq')()).toMatchObject({ status: 'DROP', handlerRan: false });
      const mine = (e: DaprEvent) => (e.data as { marker?: string })?.marker === marker;
      expect(t.consumer!.events.filter(mine)).toEqual([]);
      expect(t.consumer!.deadLetters.filter(mine)).toEqual([]);
    },
  },
];
