import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, spawnLogged, stopProcess, waitUntil } from '../support/processes';

const ROOT = path.resolve(__dirname, '..', '..');
const STATE = path.join(ROOT, '.tmp', 'compat', 'state.json');
const INSTALL = 'bash test/compat/install.sh';

export type CompatAppName = 'nest11' | 'nest12';

/** What `install.sh` wrote: where the apps are and what the installed tarball was built from. */
interface InstallState {
  dir: string;
  tarballSha256: string;
  sources: Record<string, string>;
}

/**
 * The folder of an installed compat app. Throws, saying what to run, when the apps are not
 * installed or were installed from sources that have changed since.
 */
export function installedApp(app: CompatAppName): string {
  if (!fs.existsSync(STATE)) {
    throw new Error(
      `the compat apps are not installed: run "${INSTALL}" (needs the npm registry; npm test runs it first)`,
    );
  }
  const state = JSON.parse(fs.readFileSync(STATE, 'utf8')) as InstallState;
  const changed = [...new Set([...Object.keys(state.sources), ...librarySources()])].filter((file) => {
    const full = path.join(ROOT, file);
    return !fs.existsSync(full) || sha256(fs.readFileSync(full)) !== state.sources[file];
  });
  if (changed.length > 0) {
    throw new Error(
      `the installed kugel-comms tarball is older than the sources (${changed.slice(0, 5).join(', ')}` +
        `${changed.length > 5 ? ', ...' : ''}): run "${INSTALL}"`,
    );
  }
  const dir = path.join(state.dir, app);
  const stamp = path.join(dir, '.compat-stamp');
  if (!fs.existsSync(stamp) || !fs.readFileSync(stamp, 'utf8').includes(`tarball=${state.tarballSha256}`)) {
    throw new Error(`the ${app} compat app in ${dir} does not hold the packed tarball: run "${INSTALL}"`);
  }
  return dir;
}

/** The library's sources as install.sh lists them (so that a new file also counts as a change). */
function librarySources(): string[] {
  return (fs.readdirSync(path.join(ROOT, 'lib'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
    .map((f) => path.join('lib', f));
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Puts the app's sources in place (the shared test/compat/app/ and the app's own entry,
 * test/compat/<app>/src/main.ts) and compiles them with the app's own TypeScript.
 */
export function buildApp(app: CompatAppName, dir: string): void {
  const source = path.join(ROOT, 'test', 'compat', app);
  for (const entry of ['src', 'dist']) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, 'test', 'compat', 'app'), path.join(dir, 'src'), { recursive: true });
  fs.cpSync(path.join(source, 'src'), path.join(dir, 'src'), { recursive: true });
  for (const file of ['tsconfig.json', 'tsconfig.build.json'])
    fs.copyFileSync(path.join(source, file), path.join(dir, file));
  try {
    execFileSync(
      process.execPath,
      [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: dir,
        stdio: 'pipe',
      },
    );
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `tsc failed for the ${app} compat app:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Runs a module script in the app's folder (so that `kugel-comms` resolves to the installed
 * tarball), with the test run's environment, or only `env` when given (as the apps get it).
 */
export function runModuleScript(dir: string, script: string, env?: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    encoding: 'utf8',
    env: env ? appEnv(env) : undefined,
  });
}

export interface RunningApp {
  url: string;
  /** What the app printed when ready: its port, module format and the installed Nest versions. */
  info: { port: number; format: string; nest: string; terminus: string };
  output: string[];
  /** SIGTERM, then the exit code (null when it had to be killed). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built app (`node dist/main.js`) and waits for its `COMPAT_READY` line. */
export async function startApp(dir: string, env: Record<string, string>): Promise<RunningApp> {
  const { child, output } = spawnLogged(process.execPath, [path.join(dir, 'dist', 'main.js')], appEnv(env), 2000);
  let info: RunningApp['info'] | undefined;
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error('exited');
        const line = output.find((l) => l.startsWith('COMPAT_READY '));
        if (line) info = JSON.parse(line.slice('COMPAT_READY '.length));
        return info !== undefined;
      },
      30_000,
      'COMPAT_READY',
    );
  } catch (error) {
    await stopProcess(child, 'SIGKILL');
    throw new Error(`the app in ${dir} did not start:\n${output.slice(-40).join('\n')}`, { cause: error });
  }
  const ready = info!;
  return {
    url: `http://127.0.0.1:${ready.port}`,
    info: ready,
    output,
    async stop(graceMs = 15_000) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited(child);
      clearTimeout(timer);
      const killed = child.signalCode === 'SIGKILL';
      return { code: killed ? null : child.exitCode, signal: child.signalCode };
    },
  };
}

/** Only what the app needs: no variable of the test run leaks into it (BASE_URL_*, DAPR_*). */
function appEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env };
}

/** Runs the built app to its exit (for a boot that must fail); resolves to the exit code and output. */
export async function runToExit(
  dir: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; output: string[] }> {
  const { child, output } = spawnLogged(process.execPath, [path.join(dir, 'dist', 'main.js')], appEnv(env));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited(child);
  clearTimeout(timer);
  return { code: child.signalCode ? null : child.exitCode, output };
}
