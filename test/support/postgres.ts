import { ChildProcess, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, spawnLogged, stopProcess, waitUntil } from './processes';

/** The user PostgreSQL runs as: `initdb` and `postgres` refuse to run as root. */
export const POSTGRES_USER = 'postgres';

/**
 * The folder of the machine's PostgreSQL server binaries: `PG_BIN_DIR`, else the newest
 * `/usr/lib/postgresql/<major>/bin` (Debian's layout). Throws (never skips), naming what is missing.
 */
export function postgresBinDir(): string {
  const needed = ['initdb', 'postgres', 'psql'];
  const fromEnv = process.env.PG_BIN_DIR;
  let dir: string | undefined = fromEnv;
  if (!dir) {
    const root = '/usr/lib/postgresql';
    const majors = fs.existsSync(root)
      ? fs
          .readdirSync(root)
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
      : [];
    dir = majors.map((m) => path.join(root, m, 'bin')).find((d) => fs.existsSync(path.join(d, 'initdb')));
  }
  if (!dir) {
    throw new Error(
      'PostgreSQL server binaries not found: no /usr/lib/postgresql/<major>/bin/initdb. Install Debian\'s "postgresql" package (test/prepare.sh postgres) or set PG_BIN_DIR',
    );
  }
  const missing = needed.filter((b) => !fs.existsSync(path.join(dir, b)));
  if (missing.length > 0) throw new Error(`PostgreSQL binaries missing in ${dir}: ${missing.join(', ')}`);
  return dir;
}

/** Runs `command` as the `postgres` user (through `runuser` when this process is root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]];
}

/**
 * A throwaway PostgreSQL server on 127.0.0.1 and a free port (never another address; its Unix
 * socket in its own folder), with a temporary data folder owned by the `postgres` user. Trust
 * authentication for the `postgres` role over loopback, as daprd's connection string expects:
 * `host=127.0.0.1 port=PORT user=postgres dbname=postgres sslmode=disable`.
 *
 * `stop()` is a clean shutdown (`fast`), `kill()` a crash (SIGKILL to the postmaster and its
 * processes: what was committed survives through the WAL), `startProcess()` starts it again on the
 * same port with the same data, `dispose()` stops it and removes its folder.
 */
export class PostgresServer {
  private proc?: { child: ChildProcess; output: string[] };
  /** Milliseconds the last start took until the server accepted connections. */
  lastStartMs = 0;
  /** Milliseconds `initdb` took. */
  readonly initdbMs: number;

  private constructor(
    readonly port: number,
    private readonly root: string,
    private readonly bin: string,
  ) {
    const started = performance.now();
    const [cmd, args] = asPostgres(path.join(bin, 'initdb'), [
      '-D',
      this.dataDir,
      '-U',
      POSTGRES_USER,
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    try {
      execFileSync(cmd, args, { stdio: 'pipe' });
    } catch (error) {
      const e = error as { stderr?: Buffer; message: string };
      throw new Error(`initdb failed: ${e.stderr?.toString('utf8').trim() || e.message}`, { cause: error });
    }
    this.initdbMs = performance.now() - started;
  }

  /**
   * A new server (initdb, then started) on a free port. The port can be taken between the pick and
   * the server's bind (another suite's process): nobody knows it yet, so the server is started
   * again on another one, up to three times.
   */
  static async start(): Promise<PostgresServer> {
    const bin = postgresBinDir();
    for (let attempt = 1; ; attempt++) {
      const pg = new PostgresServer(await freePort(), makeRoot(), bin);
      try {
        await pg.startProcess();
        return pg;
      } catch (error) {
        await pg.dispose().catch(() => undefined);
        if (attempt === 3) throw error;
      }
    }
  }

  get dataDir(): string {
    return path.join(this.root, 'data');
  }

  private get socketDir(): string {
    return path.join(this.root, 'socket');
  }

  /** daprd's `connectionString` for `state.postgresql`. */
  get connectionString(): string {
    return `host=127.0.0.1 port=${this.port} user=${POSTGRES_USER} dbname=postgres sslmode=disable`;
  }

  get running(): boolean {
    const c = this.proc?.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The server's last output lines (for failure messages). */
  get output(): string[] {
    return this.proc?.output ?? [];
  }

  /** Starts the server (again) and waits until it accepts connections on its port. */
  async startProcess(timeoutMs = 20_000): Promise<void> {
    const started = performance.now();
    const [cmd, args] = asPostgres(path.join(this.bin, 'postgres'), [
      '-D',
      this.dataDir,
      '-p',
      String(this.port),
      '-k',
      this.socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
    ]);
    this.proc = spawnLogged(cmd, args, process.env);
    try {
      // Stops waiting as soon as the server has exited (a port taken: "could not bind").
      await waitUntil(async () => !this.running || this.ready(), timeoutMs, `postgres on 127.0.0.1:${this.port}`, 100);
      if (!this.running) throw new Error('postgres exited');
    } catch (error) {
      const tail = this.output.slice(-10).join('\n');
      await this.kill();
      throw new Error(`postgres did not start: ${(error as Error).message}\n--- postgres output ---\n${tail}`, {
        cause: error,
      });
    }
    this.lastStartMs = performance.now() - started;
  }

  /** Clean shutdown (SIGINT: PostgreSQL's `fast` mode). */
  async stop(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid !== undefined && this.running) {
      process.kill(pid, 'SIGINT');
      await waitUntil(async () => !this.running, 15_000, 'postgres to shut down', 50).catch(() => this.kill());
    }
    await this.kill();
  }

  /** Crash: SIGKILL to the postmaster and every process it started; nothing is shut down cleanly. */
  async kill(): Promise<void> {
    const pid = this.postmasterPid();
    if (pid !== undefined) {
      for (const p of [pid, ...childrenOf(pid)]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (this.proc) await stopProcess(this.proc.child, 'SIGKILL', 1000);
    this.proc = undefined;
    // The postmaster's processes end on their own once it is gone; a new start needs them gone.
    if (pid !== undefined) await waitUntil(async () => !alive(pid), 5_000, 'the postmaster to exit', 20);
    // Its pid file would say "ready" to the next start's wait before the new postmaster rewrites it.
    fs.rmSync(path.join(this.dataDir, 'postmaster.pid'), { force: true });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** Stops the server and removes its folder. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  /** Runs SQL with psql and answers its unaligned, tuples-only output (`|` between columns). */
  query(sql: string): string {
    return execFileSync(
      path.join(this.bin, 'psql'),
      ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(this.port), '-U', POSTGRES_USER, '-c', sql],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
    ).trim();
  }

  /**
   * Whether our server accepts connections now: its `postmaster.pid` says `ready` (the status line
   * PostgreSQL writes once its sockets listen), not merely something answering on the port.
   */
  private ready(): boolean {
    try {
      const lines = fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n');
      return Number(lines[3]) === this.port && lines[7]?.trim() === 'ready';
    } catch {
      return false;
    }
  }

  /** The postmaster's pid from `postmaster.pid` (its first line), while the file exists. */
  postmasterPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A temp folder the `postgres` user owns (`data/`, `socket/`); /tmp's own mode lets it enter. */
function makeRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-pg-'));
  fs.mkdirSync(path.join(root, 'socket'));
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${POSTGRES_USER}:`, root]);
  return root;
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses; the last ')' ends it.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
