import { INestApplication, LogLevel, Provider, Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import { EventHandledEvent, KugelCommsEvents, KugelCommsModule, KugelCommsModuleOptions } from '../../../lib';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** A Nest app with `@DaprSubscribe` providers, listening on 127.0.0.1 (port 0 unless given). */
export interface SubscriberApp {
  app: INestApplication;
  port: number;
  url: string;
  /** Every `eventHandled` event of the app, in order. */
  handled: EventHandledEvent[];
  close(): Promise<void>;
}

export async function startSubscriberApp(o: {
  platform?: Platform;
  providers: Provider[];
  controllers?: Array<Type<unknown>>;
  options?: KugelCommsModuleOptions;
  port?: number;
}): Promise<SubscriberApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [KugelCommsModule.forRoot({ dapr: { waitForSidecarMs: 0 }, ...o.options })],
    providers: o.providers,
    controllers: o.controllers,
  }).compile();
  const logger: LogLevel[] = ['error', 'warn', 'fatal'];
  const app =
    o.platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  const handled: EventHandledEvent[] = [];
  app.get(KugelCommsEvents).eventHandled.on((e) => handled.push(e));
  await app.listen(o.port ?? 0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port, url: `http://127.0.0.1:${port}`, handled, close: () => app.close() };
}

/** A POST straight to the app, bypassing daprd. */
export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/cloudevents+json' },
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** A CloudEvent as daprd delivers one. */
export function cloudEvent(id: string, data: unknown, topic = 'orders', extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    id,
    source: 'kugel-test',
    type: 'com.dapr.event.sent',
    specversion: '1.0',
    datacontenttype: 'application/json',
    topic,
    pubsubname: 'pubsub',
    data,
    ...extra,
  });
}
