import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { AppModule } from '../../sample-app/app.module';
import { MasterDataPeer, startMasterDataPeer } from '../../sample-app/peer/master-data.peer';
import { Daprd } from '../dapr/daprd';
import { waitForSubscriptions } from '../dapr/subscription-stack';
import { freePort, probeStatus, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { RedisServer } from '../support/redis';
import { SECRETS } from '../support/secrets';

const ROOT = path.resolve(__dirname, '..', '..');
const COMPONENTS = path.join(ROOT, 'sample-app', 'components');
const REPORT_MAIN = path.join(ROOT, 'sample-app', 'report', 'main.ts');

/** The report service: its own process (as `npm run sample` runs it) and its own sidecar. */
export class ReportService {
  private proc?: ReturnType<typeof spawnLogged>;

  constructor(
    readonly port: number,
    readonly daprd: Daprd,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** The last lines the process printed. */
  get output(): string[] {
    return this.proc?.output ?? [];
  }

  /** Starts the app (and waits for it to listen). */
  async startApp(): Promise<void> {
    this.proc = spawnLogged(process.execPath, ['-r', 'ts-node/register/transpile-only', REPORT_MAIN], this.env);
    try {
      await waitUntil(
        async () => {
          if (!this.running) throw new Error('the report service exited');
          return (await probeStatus(`${this.base}/health/live`)) === 200;
        },
        60_000,
        'the report service to listen',
        100,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- report output ---\n${this.output.slice(-30).join('\n')}`, {
        cause: error,
      });
    }
  }

  /** Stops the app process (`SIGKILL` for a crash). */
  async stopApp(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, signal);
    this.proc = undefined;
  }
}

/**
 * The sample as `npm run sample` runs it: a durable Redis, the master-data peer, the cart service
 * (in this process: tests reach into it) with its sidecar (app id `cart`), and the report service
 * (a process of its own) with its sidecar (app id `report`); both sidecars load
 * `sample-app/components`.
 */
export interface SampleApp {
  /** The cart service. */
  base: string;
  peer: MasterDataPeer;
  redis: RedisServer;
  /** The cart's sidecar. */
  daprd: Daprd;
  /** The cart service. */
  app: INestApplication;
  report: ReportService;
  close(): Promise<void>;
}

/**
 * What the peer's terminal service says of every terminal: a business date and counters that are
 * not today's or 1, so a test sees the transaction logs take them from the terminal.
 */
export const SAMPLE_TERMINALS = {
  businessDate: '20250601',
  openCounter: 2,
  businessCounter: 17,
  staff: { staffId: 'S001', staffName: 'Hanako Sato' },
} as const;

/** Boots the sample, configured through the environment its services read. */
export async function startSampleApp(env: Record<string, string> = {}): Promise<SampleApp> {
  const saved = { ...process.env };
  const redis = await RedisServer.start({ durable: true });
  const peer = await startMasterDataPeer(0, '127.0.0.1', SAMPLE_TERMINALS);
  const cartPort = await freePort();
  const reportPort = await freePort();
  const daprd = await Daprd.create({
    componentsDir: COMPONENTS,
    redisHost: redis.host,
    appPort: cartPort,
    appId: 'cart',
  });
  const reportDaprd = await Daprd.create({
    componentsDir: COMPONENTS,
    redisHost: redis.host,
    appPort: reportPort,
    appId: 'report',
  });
  const credentials = { SECRET_KEY: SECRETS.serviceTokenSecret, PUBSUB_NOTIFY_API_KEY: SECRETS.otherApiKey };
  const report = new ReportService(reportPort, reportDaprd, {
    ...process.env,
    ...credentials,
    PORT: String(reportPort),
    HOST: '127.0.0.1',
    BASE_URL_CART: `http://127.0.0.1:${cartPort}/api/v1`,
    BASE_URL_TERMINAL: `${peer.url}/api/v1`,
    DAPR_HTTP_PORT: String(reportDaprd.httpPort),
    ...env,
  });
  Object.assign(process.env, {
    ...credentials,
    BASE_URL_MASTER_DATA: `${peer.url}/api/v1`,
    BASE_URL_TERMINAL: `${peer.url}/api/v1`,
    DAPR_HTTP_PORT: String(daprd.httpPort),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'fatal'] });
  app.enableShutdownHooks();
  await app.listen(cartPort, '127.0.0.1');
  await daprd.startProcess();
  await report.startApp();
  await reportDaprd.startProcess();
  await waitForSubscriptions(reportDaprd, 2);
  return {
    base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`,
    peer,
    redis,
    daprd,
    app,
    report,
    close: async () => {
      process.env = saved;
      // The report first: after a fault it is still working through redelivered copies and calls
      // the cart back for each, so the cart stays up to answer them (the report gets SIGKILL 5 s
      // after SIGTERM). Then the cart; then what both stand on, side by side. The old order (cart,
      // report, each sidecar in turn) summed its bounds past the 30 s hook timeout once in CI.
      await timedStep('the report service', () => report.stopApp());
      await timedStep('the cart app', () => app.close());
      await Promise.all([
        timedStep("the report's sidecar", () => reportDaprd.dispose()),
        timedStep("the cart's sidecar", () => daprd.dispose()),
        timedStep('the master-data peer', () => peer.close()),
      ]);
      await timedStep('Redis', () => redis.dispose());
    },
  };
}

/**
 * How long a test file gives `SampleApp.close()` (its `afterAll`). Each step is bounded by itself
 * (a process gets SIGKILL 5 s after SIGTERM; the cart's republisher waits at most its
 * `shutdownTimeoutMs` for a pass in flight), so this is a ceiling for a loaded machine, not a target.
 */
export const SAMPLE_CLOSE_TIMEOUT_MS = 60_000;

/**
 * Runs one step of the teardown; a step slower than 5 s is written to stderr with its name and
 * time, so a slow teardown names its step instead of showing only the hook's timeout.
 */
async function timedStep(what: string, step: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  try {
    await step();
  } finally {
    const ms = performance.now() - started;
    if (ms > 5_000) process.stderr.write(`sample teardown: stopping ${what} took ${(ms / 1000).toFixed(1)} s\n`);
  }
}

/** An HTTP call with a JSON body; answers the status and the parsed body. */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Creates a cart on `terminal` (a terminal's base URL), adds `quantity` green teas (150 each), pays and bills it. */
export async function sell(terminal: string, quantity = 2): Promise<{ status: number; body: any }> {
  const created = await call('POST', `${terminal}/carts`);
  if (created.status !== 201) return created;
  const id = created.body.cartId as string;
  const added = await call('POST', `${terminal}/carts/${id}/lineItems`, { itemCode: '4901234567890', quantity });
  if (added.status !== 201) return added;
  const paid = await call('POST', `${terminal}/carts/${id}/payments`, { paymentCode: '01', amount: 150 * quantity });
  if (paid.status !== 201) return paid;
  return call('POST', `${terminal}/carts/${id}/bill`);
}
