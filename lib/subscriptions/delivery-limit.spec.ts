import { Logger } from '@nestjs/common';
import { DeliveryLimit, IN_PLACE_MAX_DELIVERIES } from './delivery-limit';
import { Answer } from './handler-answers';
import { SubscriptionHandler } from './subscription-definition';

const failed: Answer = { status: 'RETRY', reason: 'failed', error: new Error('boom') };

function handler(over: Partial<SubscriptionHandler> = {}): SubscriptionHandler {
  return {
    name: 'Ledger.onEntry',
    pubsub: 'pubsub',
    topic: 'ledger',
    priority: 0,
    order: 0,
    path: '/dapr/events/pubsub/ledger',
    rawPayload: false,
    metadata: {},
    handlerTimeoutMs: 1000,
    maxDeliveries: 'broker',
    invoke: () => undefined,
    ...over,
  };
}

describe('DeliveryLimit', () => {
  let logger: { error: jest.Mock; warn: jest.Mock };
  let types: jest.Mock<Promise<Map<string, string> | undefined>, []>;
  let limit: DeliveryLimit;

  beforeEach(() => {
    logger = { error: jest.fn(), warn: jest.fn() };
    types = jest.fn(async () => new Map([['pubsub', 'pubsub.redis']]));
    limit = new DeliveryLimit(types, logger as unknown as Logger);
  });

  const statuses = async (h: SubscriptionHandler, id: string, answers: Answer[]) => {
    const out: string[] = [];
    for (const a of answers) {
      const answered = await limit.apply(h, id, a);
      out.push(`${answered.status}:${answered.reason}`);
    }
    return out;
  };

  it('answers DROP on the failure that reaches maxDeliveries, logs it at ERROR, then counts that event from 0 again', async () => {
    const h = handler({ maxDeliveries: 3, deadLetterTopic: 'ledger-dlq' });
    expect(await statuses(h, 'e1', [failed, failed, failed, failed])).toEqual([
      'RETRY:failed',
      'RETRY:failed',
      'DROP:retries-exhausted',
      'RETRY:failed',
    ]);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0][0]).toBe(
      'Ledger.onEntry: event e1 on pubsub/ledger failed 3 deliveries (maxDeliveries 3) → DROP (the dead-letter topic ledger-dlq keeps it)',
    );
  });

  it('keeps the error of the failure it turns into DROP', async () => {
    const h = handler({ maxDeliveries: 1 });
    expect(await limit.apply(h, 'e1', failed)).toEqual({ status: 'DROP', reason: 'retries-exhausted', error: failed.error });
    expect(logger.error.mock.calls[0][0]).toContain('no dead-letter topic: it is gone');
  });

  it('counts each event (pub/sub, topic, id) apart, and an answer other than RETRY forgets the count', async () => {
    const h = handler({ maxDeliveries: 2 });
    expect(await statuses(h, 'a', [failed])).toEqual(['RETRY:failed']);
    expect(await statuses(h, 'b', [failed])).toEqual(['RETRY:failed']);
    expect(await statuses(handler({ maxDeliveries: 2, topic: 'other' }), 'a', [failed])).toEqual(['RETRY:failed']);
    expect(await statuses(h, 'a', [{ status: 'SUCCESS', reason: 'handled' }, failed])).toEqual([
      'SUCCESS:handled',
      'RETRY:failed',
    ]);
    expect(await statuses(h, 'b', [failed])).toEqual(['DROP:retries-exhausted']);
  });

  it('counts handler failures and timeouts only: a RETRY of the dedupe or of shutdown says nothing about the event', async () => {
    const h = handler({ maxDeliveries: 2 });
    const notTheEvent: Answer[] = [
      { status: 'RETRY', reason: 'in-progress' },
      { status: 'RETRY', reason: 'store-unavailable' },
      { status: 'RETRY', reason: 'shutdown' },
    ];
    expect(await statuses(h, 'e1', [...notTheEvent, ...notTheEvent])).toEqual(
      [...notTheEvent, ...notTheEvent].map((a) => `RETRY:${a.reason}`),
    );
    expect(await statuses(h, 'e1', [{ status: 'RETRY', reason: 'timeout' }, failed])).toEqual([
      'RETRY:timeout',
      'DROP:retries-exhausted',
    ]);
  });

  it('maxDeliveries false: never bounded', async () => {
    types.mockResolvedValue(new Map([['pubsub', 'pubsub.kafka']]));
    const h = handler({ maxDeliveries: false, deadLetterTopic: 'dlq' });
    const answers = await statuses(h, 'e1', Array(IN_PLACE_MAX_DELIVERIES + 2).fill(failed));
    expect(answers.every((a) => a === 'RETRY:failed')).toBe(true);
    expect(types).not.toHaveBeenCalled();
  });

  it("'broker' on Kafka with a dead-letter topic: DROP on the tenth failed delivery", async () => {
    types.mockResolvedValue(new Map([['pubsub', 'pubsub.kafka']]));
    const h = handler({ deadLetterTopic: 'ledger-dlq' });
    const answers = await statuses(h, 'e1', Array(IN_PLACE_MAX_DELIVERIES).fill(failed));
    expect(answers.slice(0, -1).every((a) => a === 'RETRY:failed')).toBe(true);
    expect(answers.at(-1)).toBe('DROP:retries-exhausted');
    expect(types).toHaveBeenCalledTimes(1); // the sidecar is asked once
  });

  it("'broker' on Kafka without a dead-letter topic: never DROP (the event would be gone), one WARN naming the fix", async () => {
    types.mockResolvedValue(new Map([['pubsub', 'pubsub.kafka']]));
    const h = handler();
    const answers = await statuses(h, 'e1', Array(IN_PLACE_MAX_DELIVERIES + 2).fill(failed));
    expect(answers.every((a) => a === 'RETRY:failed')).toBe(true);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0][0]).toMatch(/pubsub is pubsub\.kafka.*blocks its partition for ever.*Set deadLetterTopic/);
  });

  it("'broker' elsewhere (a broker that does not hold the events behind a RETRY), or a kind the sidecar cannot tell: no bound", async () => {
    const h = handler({ deadLetterTopic: 'dlq' });
    expect((await statuses(h, 'e1', Array(12).fill(failed))).every((a) => a === 'RETRY:failed')).toBe(true);
    types.mockResolvedValue(undefined);
    const other = new DeliveryLimit(types, logger as unknown as Logger);
    for (let i = 0; i < 12; i++) expect((await other.apply(h, 'e2', failed)).status).toBe('RETRY');
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('remembers at most 10,000 failing events: the one that failed longest ago is forgotten first', async () => {
    const h = handler({ maxDeliveries: 2 });
    await limit.apply(h, 'first', failed);
    await limit.apply(h, 'second', failed);
    for (let i = 0; i < 9_999; i++) await limit.apply(h, `filler-${i}`, failed);
    // 10,001 keys were counted: "first" was forgotten (its next failure counts 1), "second" was not.
    expect((await limit.apply(h, 'second', failed)).status).toBe('DROP');
    expect((await limit.apply(h, 'first', failed)).status).toBe('RETRY');
  });
});
