import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { freePort, spawnLogged, stopProcess, waitUntil } from './processes';

/** Finds `redis-server` (REDIS_SERVER_BIN, then PATH); fails loudly when it is missing. */
export function redisServerBinary(): string {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || fail();
  } catch {
    return fail();
  }
  function fail(): never {
    throw new Error(
      'redis-server not found: install Debian\'s "redis-server" package (.ci/run does) or set REDIS_SERVER_BIN',
    );
  }
}

export interface RedisServerOptions {
  /**
   * Keep every acknowledged write across a crash: an append-only file in a temp folder, fsynced
   * before each write is answered (`appendfsync always`), replayed when the server starts again.
   * Without it the server keeps nothing on disk and a `stop()` loses all data. @default false
   */
  durable?: boolean;
}

/**
 * A throwaway redis-server on 127.0.0.1 and a free port; can be stopped (SIGKILL, a crash) and
 * started again on the same port. `dispose()` also removes its data folder.
 */
export class RedisServer {
  private proc?: { child: ChildProcess; output: string[] };
  private readonly dir?: string;

  private constructor(
    readonly port: number,
    readonly options: RedisServerOptions,
  ) {
    if (options.durable) this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kugel-redis-'));
  }

  /**
   * A new server on a free port. The port can be taken between the pick and redis-server's bind
   * (another suite's process): nobody knows it yet, so the start is tried again on another one,
   * up to three times.
   */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const redis = new RedisServer(await freePort(), options);
      try {
        await redis.startProcess();
        return redis;
      } catch (error) {
        await redis.dispose().catch(() => undefined);
        if (attempt === 3) throw error;
      }
    }
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async startProcess(): Promise<void> {
    this.proc = spawnLogged(
      redisServerBinary(),
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--protected-mode',
        'yes',
        ...(this.dir ? ['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ],
      process.env,
    );
    const child = this.proc.child;
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await waitUntil(async () => exited() || (await this.ping()), 10_000, `redis-server on ${this.host}`);
    // A PING answered by another process that holds the port is not this server.
    if (exited()) throw new Error(`redis-server on ${this.host} exited: ${this.proc.output.slice(-3).join(' | ')}`);
  }

  /** Crash (SIGKILL): what was not written to disk is gone. */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGKILL');
    this.proc = undefined;
  }

  /** Stops the server and removes its data folder. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether the server answers PING now. */
  up(): Promise<boolean> {
    return this.ping();
  }

  /**
   * Sends one command in RESP and resolves to the raw reply text (a few lines, read until the
   * socket is idle for a moment): enough for small replies like `XPENDING`'s summary.
   */
  command(...args: string[]): Promise<string> {
    const request = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1');
      let reply = '';
      socket.setTimeout(200, () => {
        socket.destroy();
        resolve(reply);
      });
      socket.once('connect', () => socket.write(request));
      socket.on('data', (d) => {
        reply += d.toString('utf8');
      });
      socket.once('error', reject);
    });
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
  }
}
