import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { freePort, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { tcpOpen } from './tcp';

/** The Kafka version the tests run; its jars are fetched by `bash test/prepare.sh kafka`. */
export const KAFKA_VERSION = '4.1.0';

/** Where `test/prepare.sh kafka` puts the broker's jars (from Maven Central, `test/brokers/kafka-pom.xml`). */
export const KAFKA_LIB = path.join(__dirname, '.cache', `kafka-${KAFKA_VERSION}`);

/** The `java` that runs the broker (JAVA_HOME, then PATH); fails loudly when there is none. */
function javaBinary(): string {
  if (process.env.JAVA_HOME) return path.join(process.env.JAVA_HOME, 'bin', 'java');
  try {
    return execFileSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).trim() || fail();
  } catch {
    return fail();
  }
  function fail(): never {
    throw new Error('java not found: Kafka needs Java 17 or later (set JAVA_HOME, or install a JDK)');
  }
}

function classpath(): string {
  if (!fs.existsSync(KAFKA_LIB) || !fs.readdirSync(KAFKA_LIB).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(
      `the Kafka ${KAFKA_VERSION} jars are not in ${KAFKA_LIB}: run "bash test/prepare.sh kafka" (Maven, Maven Central)`,
    );
  }
  return path.join(KAFKA_LIB, '*');
}

/**
 * One Kafka broker in KRaft mode (broker and controller in one process) on 127.0.0.1 and free
 * ports, with a log directory of its own. It can be stopped (SIGTERM), crashed (SIGKILL) and
 * started again on the same ports and data: what it acknowledged is kept (each write is flushed
 * before it is acknowledged).
 */
export class KafkaBroker {
  private proc?: { child: ChildProcess; output: string[] };

  private constructor(
    readonly port: number,
    private readonly controllerPort: number,
    private readonly dir: string,
  ) {}

  /** Formats a new log directory and starts the broker; resolves once it accepts connections. */
  static async start(): Promise<KafkaBroker> {
    const cp = classpath();
    const java = javaBinary();
    for (let attempt = 1; ; attempt++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-kafka-'));
      const broker = new KafkaBroker(await freePort(), await freePort(), dir);
      broker.writeProperties();
      const clusterId = execFileSync(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop()!
        .trim();
      execFileSync(java, ['-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', broker.properties], {
        stdio: 'ignore',
      });
      try {
        await broker.startProcess();
        return broker;
      } catch (error) {
        // A port picked free can be taken before the broker binds it: nobody knows these yet.
        await broker.dispose();
        if (attempt === 3) throw error;
      }
    }
  }

  /** `host:port` for daprd's `brokers` metadata. */
  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const c = this.proc?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The last lines the broker printed. */
  get output(): string[] {
    return this.proc?.output ?? [];
  }

  private get properties(): string {
    return path.join(this.dir, 'server.properties');
  }

  private writeProperties(): void {
    const lines = [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${this.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${this.port}`,
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${path.join(this.dir, 'data')}`,
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'num.partitions=1',
      'group.initial.rebalance.delay.ms=0',
      // An acknowledged write survives a SIGKILL of the broker: flushed before it is acknowledged.
      'log.flush.interval.messages=1',
    ];
    fs.writeFileSync(this.properties, lines.join('\n') + '\n');
  }

  /** Starts the process (again, on the same ports and data) and waits until it accepts connections. */
  async startProcess(timeoutMs = 60_000): Promise<void> {
    this.proc = spawnLogged(
      javaBinary(),
      ['-Xmx512m', '-Xms128m', '-XX:+UseSerialGC', '-cp', classpath(), 'kafka.Kafka', this.properties],
      { ...process.env, LOG_DIR: path.join(this.dir, 'logs') },
    );
    await waitUntil(async () => !this.running || (await tcpOpen(this.port)), timeoutMs, `Kafka on ${this.bootstrap}`, 100);
    if (!this.running) {
      throw new Error(`Kafka on ${this.bootstrap} exited: ${this.output.slice(-5).join(' | ')}`);
    }
  }

  /** Graceful stop (SIGTERM): the broker closes its logs. */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGTERM', 15_000);
    this.proc = undefined;
  }

  /** Crash (SIGKILL). */
  async kill(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGKILL');
    this.proc = undefined;
  }

  /** Stops the broker and removes its directory. */
  async dispose(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
