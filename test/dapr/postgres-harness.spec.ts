import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as processes from '../support/processes';
import { PostgresServer } from '../support/postgres';

/**
 * The PostgreSQL harness the state suites run on (test/support/postgres.ts): the machine's own
 * binaries as the `postgres` user, loopback only, a temp data folder; a crash keeps what was
 * committed; a port taken before the server binds it is given up for a new one.
 */
describe('PostgreSQL test harness', () => {
  let pg: PostgresServer | undefined;
  afterEach(async () => {
    jest.restoreAllMocks();
    await pg?.dispose();
    pg = undefined;
  });

  it('runs as the postgres user, listens on 127.0.0.1 only, and keeps committed rows across a SIGKILL', async () => {
    pg = await PostgresServer.start();
    // The figures the docs quote (initdb, start until accepting connections).
    process.stdout.write(`postgres harness: initdb ${Math.round(pg.initdbMs)} ms, start ${Math.round(pg.lastStartMs)} ms\n`);
    expect(pg.query('SHOW listen_addresses')).toBe('127.0.0.1');
    expect(pg.query('SELECT current_user')).toBe('postgres');
    const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pg.postmasterPid()}/status`, 'utf8'))?.[1];
    expect(execFileSync('id', ['-nu', uid!], { encoding: 'utf8' }).trim()).toBe('postgres');
    pg.query('CREATE TABLE t (n int); INSERT INTO t VALUES (42)');
    await pg.kill();
    expect(pg.running).toBe(false);
    expect(() => pg!.query('SELECT 1')).toThrow();
    await pg.startProcess();
    expect(pg.query('SELECT n FROM t')).toBe('42');
    await pg.restart();
    expect(pg.query('SELECT n FROM t')).toBe('42');
  }, 60_000);

  it('starts again on a new port when the one it picked was taken before the server bound it', async () => {
    const taker = net.createServer();
    await new Promise<void>((resolve) => taker.listen(0, '127.0.0.1', resolve));
    const takenPort = (taker.address() as net.AddressInfo).port;
    const real = processes.freePort;
    const pick = jest.spyOn(processes, 'freePort').mockImplementationOnce(async () => takenPort);
    pick.mockImplementation(real);
    try {
      pg = await PostgresServer.start();
    } finally {
      taker.close();
    }
    expect(pick).toHaveBeenCalledTimes(2);
    expect(pg.port).not.toBe(takenPort);
    expect(pg.query('SELECT 1')).toBe('1');
  }, 60_000);
});
