import { INestApplication, LogLevel, Module, Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { KugelCommsModule, KugelCommsModuleOptions } from '../../../lib';
import { cloudEvent, Platform } from './subscriber-app';

/** An app listening on 127.0.0.1, port 0. */
export interface ListeningApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

async function listen(app: INestApplication): Promise<ListeningApp> {
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

const dapr = { waitForSidecarMs: 0 };

/**
 * The app as `main.ts` makes it: `NestFactory.create`, on Express (`onExpress` may mount middleware on
 * the Express instance first, as an app handing Nest its own instance would) or Fastify. Without
 * `logger`, lines go to whatever logger the test installed.
 */
export async function startFactoryApp(o: {
  platform?: Platform;
  providers: Provider[];
  controllers?: Array<new (...args: never[]) => unknown>;
  options?: KugelCommsModuleOptions;
  onExpress?: (adapter: ExpressAdapter) => void;
  logger?: LogLevel[];
}): Promise<ListeningApp> {
  @Module({
    imports: [KugelCommsModule.forRoot({ ...o.options, dapr: { ...dapr, ...o.options?.dapr } })],
    providers: o.providers,
    controllers: o.controllers ?? [],
  })
  class AppModule {}
  let adapter: ExpressAdapter | FastifyAdapter;
  if (o.platform === 'fastify') adapter = new FastifyAdapter();
  else {
    adapter = new ExpressAdapter();
    o.onExpress?.(adapter);
  }
  return listen(await NestFactory.create(AppModule, adapter, { abortOnError: false, logger: o.logger }));
}

/**
 * The app as a test makes it: `Test.createTestingModule(...).createNestApplication()` on Express,
 * `configure` running before `listen()` (that is, before `app.init()`). `afterCompile` runs once
 * the module is compiled (which replaces Nest's static logger: reinstall a capturing one there).
 */
export async function startTestingApp(o: {
  providers: Provider[];
  options?: KugelCommsModuleOptions;
  afterCompile?: () => void;
  configure?: (app: INestApplication) => void;
}): Promise<ListeningApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [KugelCommsModule.forRoot({ ...o.options, dapr })],
    providers: o.providers,
  }).compile();
  o.afterCompile?.();
  const app = moduleRef.createNestApplication();
  o.configure?.(app);
  return listen(app);
}

/** A CloudEvent object of about `padBytes` bytes of data. */
export function paddedEvent(id: string, topic: string, n: number, padBytes: number): Record<string, unknown> {
  return JSON.parse(cloudEvent(id, { n, pad: 'x'.repeat(padBytes) }, topic)) as Record<string, unknown>;
}

/** A bulk delivery body in the form daprd posts, with its entry ids. */
export function bulkDelivery(topic: string, count: number, padBytes: number): { body: string; entryIds: string[] } {
  const entryIds = Array.from({ length: count }, () => randomUUID());
  const body = JSON.stringify({
    id: randomUUID(),
    type: 'com.dapr.event.sent.bulk',
    topic,
    pubsubname: 'pubsub',
    metadata: { pubsubName: 'pubsub' },
    entries: entryIds.map((entryId, n) => ({
      entryId,
      event: paddedEvent(randomUUID(), topic, n, padBytes),
      metadata: {},
      contentType: 'application/cloudevents+json',
    })),
  });
  return { body, entryIds };
}

export const CE = { 'content-type': 'application/cloudevents+json' };
export const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * A POST with node:http: with Content-Length, or chunked (no length announced) when the headers
 * say `transfer-encoding: chunked`. `reusedSocket` tells whether a kept-alive connection carried it.
 */
export function rawPost(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  agent?: http.Agent,
): Promise<{ status: number; body: any; reusedSocket: boolean }> {
  const chunked = headers['transfer-encoding'] === 'chunked';
  const length = chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, reusedSocket: req.reusedSocket });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    const bytes = Buffer.from(body);
    if (chunked) for (let i = 0; i < bytes.length; i += 64 * 1024) req.write(bytes.subarray(i, i + 64 * 1024));
    req.end(chunked ? undefined : bytes);
  });
}
