import { ContractCase, key, STORE } from './contract-target';

const CLOUD_EVENT = 'application/cloudevents+json';

/**
 * What the sidecar itself refuses, sent past the client's checks (`raw`), and the client refusing
 * the same before it sends anything.
 */
export const DAPR_REFUSAL_CONTRACT: ContractCase[] = [
  {
    name: 'ttlInSeconds a store cannot read (1.5, "abc", "1e2"): 500 ERR_STATE_SAVE / ERR_STATE_TRANSACTION, nothing stored; the client refuses it unsent',
    async run({ dapr, raw }) {
      for (const ttl of ['1.5', 'abc', '1e2']) {
        const k = key('bad-ttl');
        const item = { key: k, value: 1, metadata: { ttlInSeconds: ttl } };
        await expect(raw('POST', `/v1.0/state/${STORE}`, JSON.stringify([item]))).resolves.toEqual({
          status: 500,
          body: expect.objectContaining({ errorCode: 'ERR_STATE_SAVE' }),
        });
        const tx = { operations: [{ operation: 'upsert', request: item }] };
        await expect(raw('POST', `/v1.0/state/${STORE}/transaction`, JSON.stringify(tx))).resolves.toEqual({
          status: 500,
          body: expect.objectContaining({ errorCode: 'ERR_STATE_TRANSACTION' }),
        });
        await expect(dapr.getState(STORE, k)).resolves.toBeNull();
      }
      // The client: nothing sent, so nothing for the state breaker to count.
      const breaker = dapr.breakerFor('state', STORE);
      const before = breaker.snapshot().consecutiveFailures;
      const sent = await dapr.detailed.saveState(STORE, key('bad-ttl'), 1, { metadata: { ttlInSeconds: 1.5 } });
      expect(sent).toMatchObject({ ok: false, code: 'ERR_BAD_REQUEST_INPUT' });
      expect(sent).not.toHaveProperty('status');
      expect(breaker.snapshot().consecutiveFailures).toBe(before);
    },
  },
  {
    name: 'a save item the sidecar cannot decode (a metadata value that is not text): 400 ERR_MALFORMED_REQUEST',
    async run({ raw }) {
      const item = { key: key('decode'), value: 1, metadata: { ttlInSeconds: 5 } };
      await expect(raw('POST', `/v1.0/state/${STORE}`, JSON.stringify([item]))).resolves.toEqual({
        status: 400,
        body: expect.objectContaining({ errorCode: 'ERR_MALFORMED_REQUEST' }),
      });
    },
  },
  {
    name: 'an own CloudEvent that is not a JSON object: 500 ERR_PUBSUB_CLOUD_EVENTS_SER (null: the connection is dropped); the client refuses it unsent',
    async run({ dapr, raw }) {
      const path = '/v1.0/publish/pubsub/contract-unsubscribed';
      for (const body of ['"text"', '[1,2]', '42', 'not json']) {
        await expect(raw('POST', path, body, CLOUD_EVENT)).resolves.toEqual({
          status: 500,
          body: expect.objectContaining({
            errorCode: 'ERR_PUBSUB_CLOUD_EVENTS_SER',
            message: 'cannot create cloudevent',
          }),
        });
      }
      await expect(raw('POST', path, 'null', CLOUD_EVENT)).resolves.toEqual({ status: 0, body: undefined });
      const bulk = [{ entryId: '1', event: 'text', contentType: CLOUD_EVENT }];
      await expect(
        raw('POST', '/v1.0-alpha1/publish/bulk/pubsub/contract-unsubscribed', JSON.stringify(bulk)),
      ).resolves.toEqual({ status: 500, body: expect.objectContaining({ errorCode: 'ERR_PUBSUB_CLOUD_EVENTS_SER' }) });
      await expect(
        dapr.detailed.publishEvent('pubsub', 'contract-unsubscribed', 'text', { cloudEvent: true }),
      ).resolves.toMatchObject({
        ok: false,
        code: 'ERR_BAD_REQUEST_INPUT',
      });
      const entries = [{ event: 'text', contentType: CLOUD_EVENT }];
      await expect(dapr.detailed.publishBulk('pubsub', 'contract-unsubscribed', entries)).resolves.toMatchObject({
        ok: false,
        code: 'ERR_BAD_REQUEST_INPUT',
      });
    },
  },
  {
    name: 'rawPayload that is not a boolean: 400 ERR_PUBSUB_REQUEST_METADATA; TRUE and 1 are booleans',
    async run({ raw }) {
      const path = '/v1.0/publish/pubsub/contract-unsubscribed?metadata.rawPayload=';
      await expect(raw('POST', `${path}maybe`, '{"a":1}')).resolves.toEqual({
        status: 400,
        body: expect.objectContaining({ errorCode: 'ERR_PUBSUB_REQUEST_METADATA' }),
      });
      for (const yes of ['TRUE', '1']) {
        await expect(raw('POST', `${path}${yes}`, '"not an object"', CLOUD_EVENT)).resolves.toEqual({
          status: 204,
          body: undefined,
        });
      }
    },
  },
];
