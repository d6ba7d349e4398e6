import * as net from 'node:net';
import { Daprd } from './daprd';

/**
 * The test sidecar's own harness: a port picked free can be taken before daprd binds it (another
 * suite's process, on a busy machine). daprd then exits; the harness starts it again on new gRPC
 * ports instead of failing the suite after its 30 s health wait.
 */
describe('daprd harness', () => {
  let taker: net.Server;
  let daprd: Daprd | undefined;

  afterEach(async () => {
    await daprd?.stop();
    await new Promise((r) => taker.close(r));
  });

  it('starts daprd again on new gRPC ports when one it picked was taken before it bound it', async () => {
    taker = net.createServer();
    await new Promise<void>((r) => taker.listen(0, '127.0.0.1', r));
    const takenPort = (taker.address() as net.AddressInfo).port;
    daprd = await Daprd.create({ appId: 'harness' });
    // The race, made certain: the internal gRPC port is one another process holds.
    (daprd as unknown as { internalGrpcPort: number }).internalGrpcPort = takenPort;
    const started = performance.now();
    await daprd.startProcess();
    expect(daprd.running).toBe(true);
    expect((daprd as unknown as { internalGrpcPort: number }).internalGrpcPort).not.toBe(takenPort);
    // It noticed the exit at once instead of waiting out the health timeout.
    expect(performance.now() - started).toBeLessThan(25_000);
  });

  it('does not pick another HTTP port (clients know it): a taken HTTP port fails the start at once', async () => {
    // It answers nothing: the harness's health probes reach it and are cut.
    taker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => taker.listen(0, '127.0.0.1', r));
    const takenPort = (taker.address() as net.AddressInfo).port;
    const created = await Daprd.create({ appId: 'harness' });
    (created as unknown as { httpPort: number }).httpPort = takenPort;
    const refused = await created.startProcess().then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toContain('daprd exited');
    expect(refused?.message).toContain('failed to start HTTP server');
    expect(created.running).toBe(false);
    expect(created.httpPort).toBe(takenPort);
  });
});
