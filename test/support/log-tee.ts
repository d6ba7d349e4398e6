import { ConsoleLogger, Logger } from '@nestjs/common';
import { format, inspect } from 'node:util';
import { teeToScan } from './log-scan';

/**
 * Jest `setupFilesAfterEnv` of every project: tees every log line the test produces into
 * `.tmp/log-scan/<run>/<pid>.log` for the end-of-run credential scan (log-scan-teardown.ts):
 * Nest `Logger` calls at every level (whether or not the level is printed, and whichever logger
 * is installed), `console.*`, and raw writes to stdout/stderr. Idempotent per process.
 */
const MARK = Symbol.for('kugel-comms.test.log-tee');
const LEVELS = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] as const;

function render(args: unknown[]): string {
  return args
    .map((a) =>
      typeof a === 'string'
        ? a
        : a instanceof Error
          ? inspect(a, { depth: 6 })
          : inspect(a, { depth: 6, breakLength: Infinity }),
    )
    .join(' ');
}

function wrapMethods(target: Record<string, unknown>, prefix: string): void {
  if (target[MARK as unknown as string]) return;
  Object.defineProperty(target, MARK, { value: true });
  for (const level of LEVELS) {
    const original = target[level] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    target[level] = function (this: unknown, ...args: unknown[]) {
      teeToScan(`[${prefix}.${level}] ${render(args)}`);
      return original.apply(this, args);
    };
  }
}

// Nest: every `new Logger(ctx).x()` and `Logger.x()` goes through these, whatever logger is installed.
wrapMethods(Logger.prototype as unknown as Record<string, unknown>, 'nest');
wrapMethods(Logger as unknown as Record<string, unknown>, 'nest-static');
// Loggers used directly (an app's own ConsoleLogger instance).
wrapMethods(ConsoleLogger.prototype as unknown as Record<string, unknown>, 'console-logger');

// console.* of the test sandbox.
for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[method] as (...args: unknown[]) => void;
  if ((original as unknown as Record<symbol, unknown>)[MARK]) continue;
  const wrapped = (...args: unknown[]) => {
    teeToScan(`[console.${method}] ${format(...args)}`);
    original.apply(console, args);
  };
  Object.defineProperty(wrapped, MARK, { value: true });
  console[method] = wrapped;
}

// Raw stream writes (the real streams: shared by every test file of this worker).
for (const stream of [process.stdout, process.stderr]) {
  const s = stream as unknown as NodeJS.WriteStream & Record<symbol, unknown>;
  if (s[MARK]) continue;
  s[MARK] = true;
  const original = s.write;
  const name = stream === process.stdout ? 'stdout' : 'stderr';
  s.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    teeToScan(
      `[${name}] ${typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk)}`,
    );
    return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof s.write;
}
