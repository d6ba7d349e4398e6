import { TestingModule } from '@nestjs/testing';
import { Duplex } from 'node:stream';
import { isRealtimeError, RealtimeClient, RealtimeConnection } from '../../lib';
import { errorOf } from '../support/errors';
import { bootKugelComms } from '../support/module-fixture';
import { nextEvent, WsTestServer } from '../support/ws-server';

const rejection = (p: Promise<unknown>) => errorOf(p, isRealtimeError);

/**
 * Bad input on both sides: messages over the size limit, values that are not messages, and a peer
 * that sends oversized or invalid frames. Each is a clear `RealtimeError`; nothing is sent where it
 * should not be.
 */
describe('RealtimeConnection: bad input', () => {
  const MAX = 1024;
  let server: WsTestServer;
  let app: TestingModule;
  let client: RealtimeClient;
  let raw: (bytes: number[]) => void = () => undefined;
  let peerSend: (data: string) => void = () => undefined;
  const connections: RealtimeConnection[] = [];
  const connect = () => {
    const c = client.connect('peer', '/ws');
    connections.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await WsTestServer.start({
      onConnection: (ws, _req, socket: Duplex) => {
        // Frames written straight to the TCP socket: what a broken peer would send.
        raw = (bytes) => socket.write(Buffer.from(bytes));
        peerSend = (data) => ws.send(data);
      },
    });
    app = await bootKugelComms({
      services: { peer: server.url },
      realtime: { maxMessageBytes: MAX, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } },
    });
    client = app.get(RealtimeClient);
  });

  afterEach(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await app.close();
    await server.close();
  });

  it('refuses an outgoing message over maxMessageBytes before sending it (UTF-8 bytes, not characters)', async () => {
    const c = connect();
    await c.waitForOpen();
    const before = server.messages.length;
    for (const big of ['x'.repeat(MAX + 1), 'é'.repeat(MAX / 2 + 1), Buffer.alloc(MAX + 1), { pad: 'y'.repeat(MAX) }]) {
      const e = await rejection(c.send(big));
      expect(e).toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE', written: false });
      expect(e.message).toMatch(/message of \d+ bytes is over maxMessageBytes \(1024\) \(nothing was sent\)/);
    }
    await c.send('é'.repeat(MAX / 2)); // exactly 1024 bytes
    expect(server.messages.slice(before)).toEqual(['é'.repeat(MAX / 2)]);
  });

  it('refuses values that cannot be sent as JSON, naming why', async () => {
    const c = connect();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(await rejection(c.send(circular))).toMatchObject({ code: 'ERR_BAD_REQUEST_INPUT', written: false });
    expect((await rejection(c.send(10n as never))).message).toMatch(
      /not JSON-serialisable: Do not know how to serialize a BigInt/,
    );
    expect((await rejection(c.send((() => 1) as never))).message).toMatch(
      /a function message is not JSON-serialisable/,
    );
    expect(c.snapshot().waiting).toBe(0);
  });

  it('a peer sending more than maxMessageBytes gets 1009 and an ERR_MESSAGE_TOO_LARGE error; the client reconnects', async () => {
    const c = connect();
    await c.waitForOpen();
    const seen = server.closeCodes.length;
    const error = nextEvent(c.onError, 'the oversized message');
    const closed = nextEvent(c.onClose, 'the close');
    peerSend('z'.repeat(MAX + 1));
    expect(await error).toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' });
    expect(await closed).toMatchObject({ wasOpen: true, willReconnect: true, error: 'ERR_MESSAGE_TOO_LARGE' });
    // The code `ws` sent the peer in its close frame.
    await server.waitFor(() => server.closeCodes.length > seen, 'the close at the peer');
    expect(server.closeCodes[seen]).toBe(1009);
    await nextEvent(c.onOpen, 'the reconnect');
  });

  it.each([
    ['a reserved opcode', [0x83, 0x00], 'WS_ERR_INVALID_OPCODE', 1002],
    ['text that is not UTF-8', [0x81, 0x02, 0xff, 0xfe], 'WS_ERR_INVALID_UTF8', 1007],
    ['a masked frame from a server', [0x81, 0x81, 1, 2, 3, 4, 0x61], 'WS_ERR_UNEXPECTED_MASK', 1002],
    ['a fragmented control frame', [0x09, 0x00], 'WS_ERR_EXPECTED_FIN', 1002],
  ])(
    'a peer sending %s: ERR_PROTOCOL, the connection is dropped and opened again',
    async (_what, bytes, wsCode, closeCode) => {
      const c = connect();
      await c.waitForOpen();
      const seen = server.closeCodes.length;
      const messages: unknown[] = [];
      c.onMessage.on((m) => messages.push(m.data));
      const error = nextEvent(c.onError, 'the protocol error');
      const closed = nextEvent(c.onClose, 'the close');
      raw(bytes);
      const e = await error;
      expect(e.code).toBe('ERR_PROTOCOL');
      expect(e.message).toContain(wsCode);
      expect(await closed).toMatchObject({ wasOpen: true, willReconnect: true, error: 'ERR_PROTOCOL' });
      expect(messages).toEqual([]);
      // The code `ws` sent the peer in its close frame.
      await server.waitFor(() => server.closeCodes.length > seen, 'the close at the peer');
      expect(server.closeCodes[seen]).toBe(closeCode);
      await nextEvent(c.onOpen, 'the reconnect');
    },
  );

  it('refuses bad close codes and sends after close', async () => {
    const c = connect();
    expect((await rejection(c.close(1006))).code).toBe('ERR_BAD_REQUEST_INPUT');
    expect((await rejection(c.close(1000, 'r'.repeat(124)))).code).toBe('ERR_BAD_REQUEST_INPUT');
    await c.close(4000, 'done');
    expect(await rejection(c.send('late'))).toMatchObject({ code: 'ERR_CONNECTION_CLOSED', written: false });
  });
});
