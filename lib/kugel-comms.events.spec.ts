import { Test } from '@nestjs/testing';
import { BreakerEvents } from './circuit-breaker/breaker-events';
import { KugelCommsEvents } from './kugel-comms.events';
import { KugelCommsModule } from './kugel-comms.module';
import { RealtimeEvents } from './realtime/realtime-events';
import { SubscriptionEvents } from './subscriptions/subscription-events';
import { CallEvents } from './transport/call-events';

describe('KugelCommsEvents gathers the events each part owns', () => {
  it('holds the same sources, so a listener on it hears what the part emits', () => {
    const calls = new CallEvents();
    const breakers = new BreakerEvents();
    const subscriptions = new SubscriptionEvents();
    const realtime = new RealtimeEvents();
    const events = new KugelCommsEvents(calls, breakers, subscriptions, realtime);
    const heard: string[] = [];
    events.retryScheduled.on((e) => heard.push(`retry ${e.retry}`));
    events.eventReceived.on((e) => heard.push(`received ${e.id}`));
    events.realtime.opened.on((e) => heard.push(`opened ${e.connection}`));

    calls.retryScheduled.emit({ client: 'peer', method: 'GET', route: '/x', retry: 1, reason: '503', delayMs: 10 });
    subscriptions.eventReceived.emit({ pubsub: 'pubsub', topic: 't', handler: 'H.m', id: 'e1', bulk: false });
    realtime.opened.emit({
      service: 's',
      connection: 's#1',
      url: 'ws://s',
      reconnected: false,
      attempts: 1,
      downtimeMs: 0,
    });

    expect(heard).toEqual(['retry 1', 'received e1', 'opened s#1']);
    expect(events.breakerStateChanged).toBe(breakers.breakerStateChanged);
    expect(events.claimSettled).toBe(subscriptions.claimSettled);
  });

  it('is built by the module from the providers the parts inject', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [KugelCommsModule.forRoot({})] }).compile();
    const events = moduleRef.get(KugelCommsEvents);
    expect(events.requestCompleted).toBe(moduleRef.get(CallEvents).requestCompleted);
    expect(events.breakerStateChanged).toBe(moduleRef.get(BreakerEvents).breakerStateChanged);
    expect(events.eventHandled).toBe(moduleRef.get(SubscriptionEvents).eventHandled);
    expect(events.realtime).toBe(moduleRef.get(RealtimeEvents));
    await moduleRef.close();
  });
});
