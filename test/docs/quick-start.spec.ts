import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The README's quick start, as a reader copies it: its one ```ts block, with `kugel-comms` pointed
// at lib/ and the last line (`void bootstrap();`, which listens on port 3000) left out, is booted as
// one app on port 0. daprd is not needed to serve /dapr/subscribe, the event route or liveness.
const repoRoot = resolve(__dirname, '../..');

function quickStartBlock(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quick start\n'));
  const match = /\n```ts\n([\s\S]*?)\n```\n/.exec(section);
  if (!match) throw new Error('README.md: no ```ts block under "## Quick start"');
  return match[1];
}

describe("the README's quick start", () => {
  const dir = join(repoRoot, '.tmp', `quick-start-${process.pid}`);
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const block = quickStartBlock();
    expect(block).toMatch(/\nvoid bootstrap\(\);$/);
    // The publish and the handler meet: the same pub/sub and topic.
    expect(block).toContain("publishEvent('pubsub', 'orders'");
    expect(block).toContain("@DaprSubscribe<OrderPlaced>('pubsub', 'orders'");
    const source = block
      .replace(/from 'kugel-comms'/g, `from ${JSON.stringify(join(repoRoot, 'lib'))}`)
      .replace(/\nvoid bootstrap\(\);$/, '\n');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'quick-start.ts'), source);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AppModule } = require(join(dir, 'quick-start.ts')) as { AppModule: new () => unknown };
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots and tells daprd about its subscription, on the pub/sub and topic it publishes to', async () => {
    const res = await fetch(`${url}/dapr/subscribe`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      expect.objectContaining({ pubsubname: 'pubsub', topic: 'orders', deadLetterTopic: 'orders-dead' }),
    ]);
  });

  it("answers daprd's deliveries through the handler: SUCCESS, and DROP for an order without an item", async () => {
    const deliver = async (data: object) => {
      const res = await fetch(`${url}/dapr/events/pubsub/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify({
          specversion: '1.0',
          id: `e-${Math.random()}`,
          source: 'orders',
          type: 'com.dapr.event.sent',
          datacontenttype: 'application/json',
          topic: 'orders',
          pubsubname: 'pubsub',
          data,
        }),
      });
      return { status: res.status, body: await res.json() };
    };
    expect(await deliver({ orderId: 'o-1', itemCode: '4901', unitPrice: 150 })).toEqual({
      status: 200,
      body: { status: 'SUCCESS' },
    });
    expect(await deliver({ orderId: 'o-2', itemCode: '', unitPrice: 0 })).toEqual({
      status: 200,
      body: { status: 'DROP' },
    });
  });

  it('serves liveness with terminus', async () => {
    const res = await fetch(`${url}/health/live`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});
