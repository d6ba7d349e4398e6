import { ConsoleLogger, Logger, LogLevel } from '@nestjs/common';

/** Captures every Nest log line (all levels) so tests can assert on them and scan for secrets. */
export class CapturingLogger extends ConsoleLogger {
  readonly lines: Array<{ level: LogLevel; text: string }> = [];

  constructor() {
    super('test', { logLevels: ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'] });
  }

  protected override printMessages(messages: unknown[], context = '', logLevel: LogLevel = 'log'): void {
    for (const m of messages) {
      const text = typeof m === 'string' ? m : m instanceof Error ? `${m.message}\n${m.stack}` : JSON.stringify(m);
      this.lines.push({ level: logLevel, text: `[${context}] ${text}` });
    }
  }

  text(): string {
    return this.lines.map((l) => `${l.level} ${l.text}`).join('\n');
  }
}

const ALL_LEVELS: LogLevel[] = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'];

/**
 * Installs a capturing logger as Nest's static logger with every level enabled (DEBUG included:
 * kugel-comms logs successes at DEBUG only when the app's log levels include it). Call
 * `reinstall()` after compiling another testing module: `Test.createTestingModule().compile()`
 * replaces the static logger with its own.
 */
export function captureLogs(): { logger: CapturingLogger; reinstall: () => void; restore: () => void } {
  const logger = new CapturingLogger();
  const reinstall = () => {
    Logger.overrideLogger(ALL_LEVELS);
    Logger.overrideLogger(logger);
  };
  reinstall();
  return {
    logger,
    reinstall,
    restore: () => {
      Logger.overrideLogger(['log', 'error', 'warn', 'fatal']);
      Logger.overrideLogger(new ConsoleLogger());
    },
  };
}

/** The WARN lines Nest loggers log while `run` runs (the lines are kept from the console). */
export function warningsDuring(run: () => void): string[] {
  const spy = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  try {
    run();
    return spy.mock.calls.map((call) => String(call[0]));
  } finally {
    spy.mockRestore();
  }
}
