import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { freePort, spawnLogged, stopProcess, waitUntil } from '../support/processes';
import { tcpOpen } from './tcp';

/** The user the Debian package runs RabbitMQ as (it owns the Erlang files; the tests run as root). */
const USER = 'rabbitmq';

function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Checks what a node needs; throws naming the missing part (`bash test/prepare.sh rabbitmq` installs it). */
function parts(): { server: string; epmd: string } {
  const server = which('rabbitmq-server') ?? (fs.existsSync('/usr/sbin/rabbitmq-server') ? '/usr/sbin/rabbitmq-server' : undefined);
  const epmd = which('epmd') ?? (fs.existsSync('/usr/bin/epmd') ? '/usr/bin/epmd' : undefined);
  if (!server || !epmd) {
    throw new Error('rabbitmq-server not found: run "bash test/prepare.sh rabbitmq" (Debian\'s rabbitmq-server package)');
  }
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    throw new Error(`the "${USER}" user does not exist: reinstall Debian's rabbitmq-server package`);
  }
  return { server, epmd };
}

/**
 * One RabbitMQ node on 127.0.0.1 and free ports (AMQP, Erlang distribution, and an epmd of its
 * own, so that nodes of parallel suites never meet), run as the `rabbitmq` user with its own
 * directories. It can be crashed (SIGKILL of the whole node) and started again on the same ports
 * and data (durable queues and persistent messages are kept).
 */
export class RabbitNode {
  private proc?: { child: ChildProcess; output: string[] };
  private epmd?: { child: ChildProcess; output: string[] };

  private constructor(
    readonly port: number,
    private readonly distPort: number,
    private readonly epmdPort: number,
    private readonly dir: string,
    private readonly name: string,
  ) {}

  static async start(): Promise<RabbitNode> {
    parts();
    for (let attempt = 1; ; attempt++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-rabbit-'));
      fs.chmodSync(dir, 0o755);
      execFileSync('chown', ['-R', `${USER}:`, dir]);
      const node = new RabbitNode(await freePort(), await freePort(), await freePort(), dir, `kugel${process.pid}x${attempt}`);
      try {
        await node.startProcess();
        return node;
      } catch (error) {
        await node.dispose();
        if (attempt === 3) throw error;
      }
    }
  }

  /** The AMQP URL for daprd's `connectionString` (guest may log in from loopback). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    const c = this.proc?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  get output(): string[] {
    return this.proc?.output ?? [];
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: this.dir,
      RABBITMQ_NODE_PORT: String(this.port),
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_NODENAME: `${this.name}@localhost`,
      RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'plugins'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_EPMD_PORT: String(this.epmdPort),
    };
  }

  /** `runuser -u rabbitmq -- env ... command`: the node's own environment, nothing of the test's. */
  private spawnAsUser(command: string, args: string[]): { child: ChildProcess; output: string[] } {
    const env = Object.entries(this.env()).map(([k, v]) => `${k}=${v}`);
    // Its own process group: a crash ends the script and the Erlang VM it started together.
    return spawnLogged('runuser', ['-u', USER, '--', 'env', '-i', ...env, command, ...args], process.env, 400, true);
  }

  /** Starts the node (again, on the same ports and data) and waits until AMQP accepts connections. */
  async startProcess(timeoutMs = 60_000): Promise<void> {
    const { server, epmd } = parts();
    if (!this.epmd || this.epmd.child.exitCode !== null) {
      this.epmd = this.spawnAsUser(epmd, ['-port', String(this.epmdPort), '-address', '127.0.0.1']);
      await waitUntil(() => tcpOpen(this.epmdPort), 10_000, `epmd on 127.0.0.1:${this.epmdPort}`, 50);
    }
    this.proc = this.spawnAsUser(server, []);
    await waitUntil(async () => !this.running || (await tcpOpen(this.port)), timeoutMs, `RabbitMQ on ${this.url}`, 200);
    if (!this.running) throw new Error(`RabbitMQ on port ${this.port} exited: ${this.output.slice(-5).join(' | ')}`);
  }

  /** Crash: SIGKILL to the node's whole process group (script and Erlang VM). */
  async kill(): Promise<void> {
    if (this.proc) await killGroup(this.proc.child);
    this.proc = undefined;
  }

  /** Graceful stop: SIGTERM to the group (the VM closes its queues), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.proc) await killGroup(this.proc.child, 'SIGTERM', 15_000);
    this.proc = undefined;
  }

  /** Ends the node and its epmd, and removes its directory. */
  async dispose(): Promise<void> {
    await this.kill();
    if (this.epmd) await killGroup(this.epmd.child);
    this.epmd = undefined;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Sends `signal` to the child's process group, then SIGKILL after `graceMs`, and waits for the child. */
async function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL', graceMs = 5000): Promise<void> {
  if (child.pid === undefined) return;
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    send(signal);
    await stopProcess(child, signal, graceMs);
  }
  send('SIGKILL'); // what the script left behind in its group
}
