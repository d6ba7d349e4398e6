import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, probeStatus, spawnLogged, stopProcess, waitUntil } from '../support/processes';

/** Where `build.sh` puts the project's own minimal daprd. */
export const BUILT_DAPRD = path.join(__dirname, '.bin', 'daprd');
const COMPONENTS = path.join(__dirname, 'components');
/** Every test daprd runs with this configuration unless it resolves names (no mDNS resolver; see the file). */
const CONFIG = path.join(__dirname, 'config.yaml');

/**
 * The daprd binary for tests: `DAPRD_BIN`, else an installed `~/.dapr/bin/daprd`, else the one
 * `test/dapr/build.sh` built. Throws (never skips) when there is none.
 */
export function daprdBinary(): string {
  const candidates = [process.env.DAPRD_BIN, path.join(os.homedir(), '.dapr', 'bin', 'daprd'), BUILT_DAPRD].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    `no daprd binary: looked at ${candidates.join(', ')}. Run "bash test/dapr/build.sh" (needs Go) or set DAPRD_BIN.`,
  );
}

export type ComponentSet =
  | 'in-memory'
  | 'redis'
  | 'redis-state'
  | 'redis-streams'
  | 'redis-streams-history'
  | 'redis-streams-serial'
  | 'redis-streams-patient'
  | 'redis-streams-batches'
  | 'redis-outbox'
  | 'postgres'
  | 'postgres-outbox'
  | 'postgres-streams'
  | 'kafka'
  | 'kafka-bare'
  | 'kafka-forever'
  | 'rabbitmq'
  | 'rabbitmq-bare'
  | 'rabbitmq-durable'
  | 'in-memory-bare'
  | 'redis-streams-bare';

export interface DaprdOptions {
  /** Component files from `test/dapr/components/<set>/`. @default 'in-memory' */
  components?: ComponentSet;
  /** Component files from this folder instead of a set (the sample's `sample-app/components`). */
  componentsDir?: string;
  /** `host:port` of Redis, substituted for `__REDIS_HOST__` in the component files. */
  redisHost?: string;
  /** daprd's connection string for PostgreSQL, substituted for `__POSTGRES_CONNECTION__` (`PostgresServer.connectionString`). */
  postgresConnection?: string;
  /** `host:port` of Kafka, substituted for `__KAFKA_BROKERS__` (`KafkaBroker.bootstrap`). */
  kafkaBrokers?: string;
  /** The AMQP URL of RabbitMQ, substituted for `__RABBITMQ_URL__` (`RabbitNode.url`). */
  rabbitmqUrl?: string;
  appId?: string;
  /** The app daprd delivers events to (omit when there is none). */
  appPort?: number;
  /** Runs daprd with `DAPR_API_TOKEN`. */
  apiToken?: string;
  /** Runs daprd with `APP_API_TOKEN`: it sends it as `dapr-api-token` on every call to the app. */
  appToken?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Service invocation between test sidecars: every daprd given the same file registers its app id,
   * address (127.0.0.1) and internal gRPC port there and looks the others up in it, through Dapr's
   * SQLite name resolver (the test sidecar registers it; nothing leaves the machine). Without it,
   * daprd runs with `config.yaml`, whose resolver does not exist, and resolves no names.
   */
  nameResolutionDb?: string;
}

/**
 * A real daprd on loopback-only, free ports, with component files from the repo. It can be
 * stopped, killed and started again on the same ports (so clients keep their endpoint).
 */
export class Daprd {
  private proc?: { child: ChildProcess; output: string[] };

  private constructor(
    readonly options: DaprdOptions,
    readonly httpPort: number,
    private grpcPort: number,
    private internalGrpcPort: number,
    /** A temp folder: `resources/` (the component files) and `config.yaml` (when names are resolved). */
    private readonly root: string,
  ) {
    writeResources(options, this.resourcesDir);
    if (options.nameResolutionDb !== undefined) writeNameResolutionConfig(options.nameResolutionDb, this.configFile);
  }

  get resourcesDir(): string {
    return path.join(this.root, 'resources');
  }

  private get configFile(): string {
    return this.options.nameResolutionDb !== undefined ? path.join(this.root, 'config.yaml') : CONFIG;
  }

  static async start(options: DaprdOptions = {}): Promise<Daprd> {
    const daprd = await Daprd.create(options);
    await daprd.startProcess();
    return daprd;
  }

  /** Picks the ports and writes the resources without starting the process (`startProcess()` does). */
  static async create(options: DaprdOptions = {}): Promise<Daprd> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-daprd-'));
    return new Daprd(options, await freePort(), await freePort(), await freePort(), root);
  }

  get httpEndpoint(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** The last lines daprd printed (for failure messages). */
  get output(): string[] {
    return this.proc?.output ?? [];
  }

  /**
   * Starts the process (again) and waits for `/v1.0/healthz/outbound` (or `/v1.0/healthz` with an
   * app). A free port can be taken by another process between the moment it was picked and
   * daprd's bind: when daprd exits because its gRPC or internal gRPC port is taken (ports no
   * client knows), it is started again on new ones, up to three times; the HTTP port never changes.
   */
  async startProcess(timeoutMs = 30_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(timeoutMs);
      } catch (error) {
        const lost = (error as { portTaken?: number }).portTaken;
        const ours = lost === this.grpcPort || lost === this.internalGrpcPort;
        if (!ours || attempt === 3) throw error;
        this.grpcPort = await freePort();
        this.internalGrpcPort = await freePort();
      }
    }
  }

  private async startOnce(timeoutMs: number): Promise<void> {
    const o = this.options;
    const args = [
      '--app-id',
      o.appId ?? 'kugel-test',
      '--dapr-http-port',
      String(this.httpPort),
      '--dapr-grpc-port',
      String(this.grpcPort),
      '--dapr-internal-grpc-port',
      String(this.internalGrpcPort),
      '--dapr-listen-addresses',
      '127.0.0.1',
      '--dapr-internal-grpc-listen-address',
      '127.0.0.1',
      '--enable-metrics=false',
      '--resources-path',
      this.resourcesDir,
      '--config',
      this.configFile,
      '--log-level',
      o.logLevel ?? 'warn',
    ];
    if (o.appPort !== undefined) args.push('--app-port', String(o.appPort), '--app-protocol', 'http');
    const env: NodeJS.ProcessEnv = { ...process.env, DAPR_HOST_IP: '127.0.0.1' };
    delete env.DAPR_API_TOKEN;
    delete env.APP_API_TOKEN;
    if (o.apiToken) env.DAPR_API_TOKEN = o.apiToken;
    if (o.appToken) env.APP_API_TOKEN = o.appToken;
    this.proc = spawnLogged(daprdBinary(), args, env);
    const health = o.appPort !== undefined ? '/v1.0/healthz' : '/v1.0/healthz/outbound';
    try {
      // Stops waiting as soon as daprd has exited (then it is reported as such, not as a timeout).
      await waitUntil(
        async () => !this.running || (await probeStatus(`${this.httpEndpoint}${health}`)) === 204,
        timeoutMs,
        `daprd ${health}`,
        100,
      );
      if (!this.running) throw new Error('daprd exited');
    } catch (error) {
      const tail = this.output.slice(-30).join('\n');
      await this.kill();
      const taken = /listen tcp 127\.0\.0\.1:(\d+): bind: address already in use/.exec(tail);
      throw Object.assign(
        new Error(`daprd did not become healthy: ${(error as Error).message}\n--- daprd output ---\n${tail}`, {
          cause: error,
        }),
        taken ? { portTaken: Number(taken[1]) } : {},
      );
    }
  }

  /** Graceful stop (SIGTERM). */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGTERM');
    this.proc = undefined;
  }

  /** Crash (SIGKILL): nothing is flushed. */
  async kill(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGKILL');
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** Stops the process and removes its temp folder. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Copies `components/<set>/*.yaml` (or `componentsDir`'s) to `dir`, filling in the Redis host, the
 * PostgreSQL connection string, the Kafka brokers and the RabbitMQ URL; a file that names one the
 * options lack fails the start.
 */
function writeResources(options: DaprdOptions, dir: string): void {
  const set = options.components ?? 'in-memory';
  const source = options.componentsDir ?? path.join(COMPONENTS, set);
  if (!fs.existsSync(source)) throw new Error(`no component folder ${source}`);
  const fills: Array<[string, string | undefined, string]> = [
    ['__REDIS_HOST__', options.redisHost, 'redisHost'],
    ['__POSTGRES_CONNECTION__', options.postgresConnection, 'postgresConnection'],
    ['__KAFKA_BROKERS__', options.kafkaBrokers, 'kafkaBrokers'],
    ['__RABBITMQ_URL__', options.rabbitmqUrl, 'rabbitmqUrl'],
  ];
  fs.mkdirSync(dir, { recursive: true });
  for (const file of fs.readdirSync(source)) {
    if (!file.endsWith('.yaml')) continue;
    let text = fs.readFileSync(path.join(source, file), 'utf8');
    for (const [placeholder, value, option] of fills) {
      if (!text.includes(placeholder)) continue;
      if (!value) throw new Error(`components of ${source} need ${option} (${file} names ${placeholder})`);
      text = text.split(placeholder).join(value);
    }
    fs.writeFileSync(path.join(dir, file), text);
  }
}

/**
 * A Configuration naming the SQLite resolver on `db`. `updateInterval` takes whole seconds only
 * (daprd v1.18 refuses fractions); a host renews its row every `updateInterval - timeout` and a
 * lookup ignores rows older than `updateInterval`, so `timeout` is the margin a late renewal has
 * on a busy machine. `cleanupInterval: 0` turns off the resolver's garbage collector, which in
 * components-contrib v1.18.0 deletes the fresh rows rather than the stale ones.
 */
function writeNameResolutionConfig(db: string, file: string): void {
  const text = [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Configuration',
    'metadata:',
    '  name: kugel-test-invocation',
    'spec:',
    '  nameResolution:',
    '    component: sqlite',
    '    version: v1',
    '    configuration:',
    `      connectionString: ${JSON.stringify(db)}`,
    "      timeout: '5s'",
    "      updateInterval: '10s'",
    "      cleanupInterval: '0'",
    '',
  ].join('\n');
  fs.writeFileSync(file, text);
}
