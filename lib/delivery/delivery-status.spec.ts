import {
  applyDeliveryCallback,
  ConsumerDelivery,
  ConsumerStatus,
  DeliveryStatus,
  PublishOutcome,
  rollUpDeliveryStatus,
} from './delivery-status';

const entries = (...statuses: ConsumerStatus[]): ConsumerDelivery[] =>
  statuses.map((status, i) => ({ service: ['report', 'journal', 'stock'][i], status }));

describe('rollUpDeliveryStatus: the Python table, and where it differs', () => {
  // The Python cart's rollup table, as rows here (docs/migration.md, "What behaves differently",
  // says where this one differs). The overall status does not depend on the publish outcome once a
  // consumer has answered.
  const table: Array<[string, PublishOutcome, ConsumerStatus[], DeliveryStatus]> = [
    ['all received', 'published', ['received', 'received', 'received'], 'delivered'],
    ['some received', 'published', ['received', 'pending', 'failed'], 'partially_delivered'],
    ['some received, the others pending', 'published', ['received', 'pending', 'pending'], 'partially_delivered'],
    ['none received, all failed', 'published', ['failed', 'failed', 'failed'], 'failed'],
    ['all pending, published', 'published', ['pending', 'pending', 'pending'], 'published'],
    ['all pending, the publish failed', 'failed', ['pending', 'pending', 'pending'], 'failed'],
    // The Python cart said partially_delivered (nothing was delivered), the terminal left it unchanged.
    ['none received, some failed, some pending', 'published', ['failed', 'pending', 'pending'], 'failed'],
    // A callback that landed before the publisher's own "published" write, or a republish
    // that failed after the consumers had it, does not overwrite what the consumers said.
    ['all received, the last publish attempt failed', 'failed', ['received', 'received', 'received'], 'delivered'],
    [
      'some received, the last publish attempt failed',
      'failed',
      ['received', 'pending', 'pending'],
      'partially_delivered',
    ],
    ['one consumer, received', 'published', ['received'], 'delivered'],
    ['no consumer listed, published', 'published', [], 'delivered'],
    ['no consumer listed, the publish failed', 'failed', [], 'failed'],
  ];

  it.each(table)('%s → %s', (_name, publish, statuses, expected) => {
    expect(rollUpDeliveryStatus(publish, entries(...statuses))).toBe(expected);
  });

  it('ends the same whatever order the callbacks and the publish outcomes arrive in (the Python code raced)', () => {
    type Write = { publish: PublishOutcome } | { service: string; status: 'received' };
    const writes: Write[] = [
      { publish: 'published' },
      { service: 'report', status: 'received' },
      { service: 'journal', status: 'received' },
      { publish: 'failed' }, // a republish that failed after both consumers had the event
    ];
    const permutations = (list: Write[]): Write[][] =>
      list.length <= 1
        ? [list]
        : list.flatMap((w, i) => permutations([...list.slice(0, i), ...list.slice(i + 1)]).map((p) => [w, ...p]));
    const finals = new Set<DeliveryStatus>();
    for (const order of permutations(writes)) {
      let publish: PublishOutcome = 'published';
      let consumers = entries('pending', 'pending');
      for (const w of order) {
        if ('publish' in w) publish = w.publish;
        else {
          const applied = applyDeliveryCallback(consumers, w);
          if (!applied.ok) throw new Error(applied.refusal);
          consumers = applied.consumers;
        }
      }
      finals.add(rollUpDeliveryStatus(publish, consumers));
    }
    expect([...finals]).toEqual(['delivered']);
  });
});

describe('applyDeliveryCallback', () => {
  const at = new Date('2026-11-29T10:00:00.000Z');

  it("sets the consumer's status, message and time, and leaves the others alone", () => {
    const before = entries('pending', 'pending');
    const applied = applyDeliveryCallback(before, { service: 'journal', status: 'failed', message: 'db down' }, at);
    expect(applied).toEqual({
      ok: true,
      changed: true,
      consumers: [
        { service: 'report', status: 'pending' },
        { service: 'journal', status: 'failed', message: 'db down', updatedAt: '2026-11-29T10:00:00.000Z' },
      ],
    });
    expect(before[1].status).toBe('pending'); // pure
  });

  it('keeps "received" when a late "failed" of an earlier delivery arrives after it', () => {
    const applied = applyDeliveryCallback(entries('received'), { service: 'report', status: 'failed' }, at);
    expect(applied).toEqual({ ok: true, changed: false, consumers: entries('received') });
  });

  it('lets a "received" replace a "failed" (a redelivery that worked)', () => {
    const applied = applyDeliveryCallback(entries('failed'), { service: 'report', status: 'received' }, at);
    expect(applied.ok && applied.consumers[0].status).toBe('received');
  });

  it.each([
    [{ service: 'billing', status: 'received' }, 'unknown-service'],
    [{ service: 'report', status: 'delivered' }, 'bad-status'],
    [{ service: 'report', status: 'RECEIVED' }, 'bad-status'],
    [{ service: '', status: 'received' }, 'bad-service'],
  ])('refuses %j (%s) instead of rolling up anyway as the Python code did', (callback, refusal) => {
    expect(applyDeliveryCallback(entries('pending'), callback as never, at)).toEqual({ ok: false, refusal });
  });
});
