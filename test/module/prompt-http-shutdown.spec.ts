import { Controller, Get, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { KugelCommsModule } from '../../lib';

/** A route whose answer waits until the test releases it. */
@Controller()
class SlowController {
  static arrived?: () => void;
  static release?: Promise<void>;

  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    SlowController.arrived?.();
    await SlowController.release;
    return { ok: true };
  }
}

describe('subscriptions.closeIdleConnections: app.close() ends once the last request in flight is answered', () => {
  let app: INestApplication | undefined;
  let agent: http.Agent | undefined;

  afterEach(async () => {
    agent?.destroy();
    await app?.close().catch(() => undefined);
    app = undefined;
  });

  async function start(closeIdleConnections?: boolean): Promise<number> {
    const moduleRef = await Test.createTestingModule({
      imports: [KugelCommsModule.forRoot({ dapr: { waitForSidecarMs: 0 }, subscriptions: { closeIdleConnections } })],
      controllers: [SlowController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    // A keep-alive timeout far past the test's own: only closing the idle connection ends it.
    (app.getHttpServer() as http.Server).keepAliveTimeout = 120_000;
    return (app.getHttpServer().address() as AddressInfo).port;
  }

  /** Starts a request, closes the app while it is in flight, answers it: how long close() then takes. */
  async function closeDuringRequest(closeIdleConnections?: boolean): Promise<'closed' | 'still open'> {
    const port = await start(closeIdleConnections);
    let release!: () => void;
    SlowController.release = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (SlowController.arrived = resolve));
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let socketClosed!: Promise<void>;
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/slow', agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('socket', (socket) => (socketClosed = new Promise((resolve) => socket.once('close', () => resolve()))));
      req.on('error', reject);
    });
    await arrived;

    const server = app!.getHttpServer() as http.Server;
    const closed = app!.close().then(() => 'closed' as const);
    // The answer leaves only once the server has stopped listening (Nest runs its hooks first).
    while (server.listening) await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await answer).toEqual({ status: 200, body: '{"ok":true}' });
    let timer: NodeJS.Timeout | undefined;
    const stillOpen = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), 3_000)));
    const outcome = await Promise.race([closed, stillOpen]);
    clearTimeout(timer);
    if (outcome === 'closed') {
      app = undefined;
      // The client sees its pooled connection end (the server closed it, not the agent).
      await socketClosed;
    } else {
      agent?.destroy(); // lets the server close for afterEach
    }
    return outcome;
  }

  it('on by default: a request in flight at close() is answered in full, then its keep-alive connection is closed', async () => {
    expect(await closeDuringRequest()).toBe('closed');
  });

  it('off: the answered connection stays open and close() waits for the keep-alive timeout (Node alone)', async () => {
    expect(await closeDuringRequest(false)).toBe('still open');
  }, 20_000);
});
