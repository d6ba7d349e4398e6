import { ConsoleLogger, Logger, LogLevel } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import * as vm from 'node:vm';
import { DaprResult, isHttpClientError } from '../../../lib';
import { runId, teeToScan } from '../../support/log-scan';

/** One row of the faults table. */
export interface ScenarioRow {
  scenario: string;
  /** Logical calls made (a publish, a save, a GET ...). */
  attempted: number;
  /** Resolved with a value (or `ok: true`). */
  succeeded: number;
  /** Ended in a reported failure: an `HttpClientError`, or a sidecar result `{ ok: false, error }`. */
  failedReported: number;
  /**
   * Neither: never settled within the deadline, rejected with something else, or a save that
   * answered `true` and did not read back after recovery.
   */
  lost: number;
  /** `unhandledRejection` events in the process while the scenario ran. */
  unhandledRejections: number;
  /** What else was measured (attempts, breaker changes, sockets, heap). */
  notes: string;
}

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', '..', '.tmp', 'faults');

/** The file the scenarios of this run append their rows to (one JSON object a line). */
export function resultsFile(id = runId()): string {
  return path.join(RESULTS_DIR, `${id}.jsonl`);
}

/** The real process (jest gives each test file a copy whose events never fire). */
const realProcess = vm.runInThisContext('process') as NodeJS.Process;

/**
 * Counts the outcomes of one scenario. While it runs, `unhandledRejection` events are counted
 * here (jest's own listener is set aside and put back by `finish()`, so that the row, not a
 * crashed test, reports them). Every error and failure text is also teed to the log scan.
 */
export class Scenario {
  attempted = 0;
  succeeded = 0;
  failedReported = 0;
  lost = 0;
  unhandledRejections = 0;
  readonly lostReasons: string[] = [];
  /** Error codes of reported failures, with counts. */
  readonly codes = new Map<string, number>();
  private readonly saved: Array<(...args: unknown[]) => void>;
  private readonly onUnhandled = (reason: unknown) => {
    this.unhandledRejections += 1;
    teeToScan(`[unhandledRejection] ${this.name}: ${inspect(reason, { depth: 4 })}`);
  };
  private finished = false;

  constructor(readonly name: string) {
    this.saved = realProcess.listeners('unhandledRejection') as Array<(...args: unknown[]) => void>;
    for (const l of this.saved) realProcess.removeListener('unhandledRejection', l);
    realProcess.on('unhandledRejection', this.onUnhandled);
  }

  /** Tracks a `ServiceClient` call: a value, an `HttpClientError`, or lost. */
  async http<T>(
    call: () => Promise<T>,
    deadlineMs: number,
  ): Promise<{ ok: true; value: T } | { ok: false; error?: unknown }> {
    this.attempted += 1;
    const outcome = await settleWithin(call, deadlineMs);
    if (outcome.kind === 'value') {
      this.succeeded += 1;
      return { ok: true, value: outcome.value };
    }
    if (outcome.kind === 'error' && isHttpClientError(outcome.error)) {
      this.failedReported += 1;
      this.count(
        outcome.error.statusCode && outcome.error.statusCode >= 400
          ? `HTTP ${outcome.error.statusCode}`
          : (outcome.error.code ?? 'unknown'),
      );
      teeToScan(`[error] ${this.name}: ${inspect(outcome.error, { depth: 6 })} ${JSON.stringify(outcome.error)}`);
      return { ok: false, error: outcome.error };
    }
    this.markLost(
      outcome.kind === 'timeout'
        ? `no outcome within ${deadlineMs} ms`
        : `rejected with a non-HttpClientError: ${String(outcome.error)}`,
    );
    return { ok: false, error: outcome.kind === 'error' ? outcome.error : undefined };
  }

  /** Tracks a sidecar call, which must resolve to a `DaprResult` and never reject. */
  async dapr<T>(call: () => Promise<DaprResult<T>>, deadlineMs: number): Promise<DaprResult<T> | undefined> {
    this.attempted += 1;
    const outcome = await settleWithin(call, deadlineMs);
    if (outcome.kind === 'value') {
      const result = outcome.value;
      if (result.ok) this.succeeded += 1;
      else if (typeof result.error === 'string' && result.error.length > 0) {
        this.failedReported += 1;
        this.count(result.code ?? (result.status ? `HTTP ${result.status}` : 'unknown'));
        teeToScan(`[dapr-failure] ${this.name}: ${JSON.stringify(result)}`);
      } else this.markLost(`failure without an error text: ${JSON.stringify(result)}`);
      return result;
    }
    this.markLost(
      outcome.kind === 'timeout'
        ? `no outcome within ${deadlineMs} ms`
        : `sidecar call rejected: ${String(outcome.error)}`,
    );
    return undefined;
  }

  /** A save that answered `true` and did not read back, or a call that never ended. */
  markLost(why: string, n = 1): void {
    this.lost += n;
    if (this.lostReasons.length < 10) this.lostReasons.push(why);
  }

  /** Waits for late rejections, restores jest's listeners and appends the row to the results file. */
  async finish(notes: string): Promise<ScenarioRow> {
    if (this.finished) throw new Error('finish() called twice');
    this.finished = true;
    // Give rejections of promises nobody awaited the chance to surface.
    for (let i = 0; i < 3; i += 1) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    this.restoreListeners();
    const codes = [...this.codes].map(([c, n]) => `${c}×${n}`).join(', ');
    const row: ScenarioRow = {
      scenario: this.name,
      attempted: this.attempted,
      succeeded: this.succeeded,
      failedReported: this.failedReported,
      lost: this.lost,
      unhandledRejections: this.unhandledRejections,
      notes: [
        notes,
        codes ? `failures: ${codes}` : '',
        this.lostReasons.length ? `lost: ${this.lostReasons.join('; ')}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    };
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    fs.appendFileSync(resultsFile(), `${JSON.stringify(row)}\n`);
    return row;
  }

  /** For `afterEach`: puts jest's listeners back if a test failed before `finish()`. */
  dispose(): void {
    if (!this.finished) {
      this.finished = true;
      this.restoreListeners();
    }
  }

  private restoreListeners(): void {
    realProcess.removeListener('unhandledRejection', this.onUnhandled);
    for (const l of this.saved) realProcess.on('unhandledRejection', l);
  }

  private count(code: string): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
}

type Outcome<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Runs `call` and reports its outcome, or `timeout` when it has none after `deadlineMs`. */
export async function settleWithin<T>(call: () => Promise<T>, deadlineMs: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), deadlineMs);
  });
  let run: Promise<Outcome<T>>;
  try {
    run = call().then(
      (value) => ({ kind: 'value', value }) as Outcome<T>,
      (error: unknown) => ({ kind: 'error', error }) as Outcome<T>,
    );
  } catch (error) {
    run = Promise.resolve({ kind: 'error', error });
  }
  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A Nest logger that counts lines by level and prints nothing (scenarios log thousands of failures). */
export class CountingLogger extends ConsoleLogger {
  readonly counts: Partial<Record<LogLevel, number>> = {};

  constructor() {
    super('faults', { logLevels: ['log', 'error', 'warn', 'fatal'] });
  }

  protected override printMessages(messages: unknown[], _context = '', level: LogLevel = 'log'): void {
    this.counts[level] = (this.counts[level] ?? 0) + messages.length;
  }
}

/** Installs a `CountingLogger` (call again after compiling a testing module, which replaces it). */
export function quietLogs(): CountingLogger {
  const logger = new CountingLogger();
  Logger.overrideLogger(['log', 'error', 'warn', 'fatal']);
  Logger.overrideLogger(logger);
  return logger;
}

/** Restores Nest's default console logger. */
export function restoreLogs(): void {
  Logger.overrideLogger(['log', 'error', 'warn', 'fatal']);
  Logger.overrideLogger(new ConsoleLogger());
}

/** Formats rows as a Markdown table. */
export function table(rows: ScenarioRow[]): string {
  const head = '| scenario | attempted | succeeded | failed, reported | lost | unhandled rejections | notes |';
  const line = '|---|---:|---:|---:|---:|---:|---|';
  return [
    head,
    line,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.attempted} | ${r.succeeded} | ${r.failedReported} | ${r.lost} | ${r.unhandledRejections} | ${r.notes.replace(/\|/g, '/')} |`,
    ),
  ].join('\n');
}
