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

/** Installs a capturing logger as Nest's static logger; returns it and a restore function. */
export function captureLogs(): { logger: CapturingLogger; restore: () => void } {
  const logger = new CapturingLogger();
  Logger.overrideLogger(logger);
  return {
    logger,
    restore: () => Logger.overrideLogger(new ConsoleLogger()),
  };
}
