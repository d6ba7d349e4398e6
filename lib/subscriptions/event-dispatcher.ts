import { Logger } from '@nestjs/common';
import { BulkEntry, bulkEntries, DeliveryTrace, Parsed, toDaprEvent } from './cloud-event';
import { DaprEvent, DaprEventStatus } from './dapr-event.interface';
import { DedupeVerdict } from './dedupe/consumer-terms';
import { IdempotentConsumer } from './dedupe/idempotent-consumer';
import { PendingEffects } from './dedupe/pending-effects';
import { DeliveryLimit } from './delivery-limit';
import { DeliveryReport } from './delivery-report';
import { handlerSpan } from './event-trace';
import { Answer, answerOf, bulkAnswers, lostClaim } from './handler-answers';
import { HandlerRun, messageOf, runHandler } from './handler-run';
import { holdLate } from './late-runs';
import { SubscriptionHandler } from './subscription-definition';
import { SubscriptionEvents } from './subscription-events';

/**
 * Runs handlers and maps how they went to daprd's answers: returned → `SUCCESS`;
 * `DropEvent` → `DROP`; anything else thrown, or still running after the handler timeout →
 * `RETRY`; a body that cannot be an event → `DROP` and an ERROR log, the handler not called.
 * With `dedupe`, the idempotent consumer decides first whether the handler runs at all.
 */
export class EventDispatcher {
  /** Log lines, events and span attributes of each delivery. */
  private readonly report: DeliveryReport;

  /**
   * `shutdown.cut` aborts when shutdown's grace (`graceMs`) is over: a handler still running is
   * answered `RETRY`, and a delivery after it is answered `RETRY` without its handler or a claim.
   */
  constructor(
    events: SubscriptionEvents,
    private readonly consumer: IdempotentConsumer,
    private readonly logger: Logger,
    private readonly shutdown: { cut?: AbortSignal; graceMs: number } = { graceMs: 0 },
    /** Bounds the failed deliveries of one event (`maxDeliveries`); none when absent. */
    private readonly limit?: DeliveryLimit,
  ) {
    this.report = new DeliveryReport(events, logger, shutdown);
  }

  /** One CloudEvent delivery; resolves to the status of the `{"status": ...}` answer. */
  async single(h: SubscriptionHandler, body: Parsed<unknown>, trace: DeliveryTrace): Promise<DaprEventStatus> {
    const parsed = body.ok ? toDaprEvent(body.value, h, trace) : body;
    if (!parsed.ok) return this.report.invalid(h, false, undefined, parsed.reason);
    const event = parsed.value;
    this.report.received(h, event.id, false);
    if (this.shutdown.cut?.aborted) return this.report.tooLate(h, event.id, false);

    const cancel = new AbortController();
    const verdict = h.dedupe ? await this.consumer.begin(h, event, lostClaim(cancel)) : undefined;
    if (verdict && !verdict.run) return this.report.skipped(h, event.id, false, verdict);
    // A transactional handler writes through `event.transaction`; committed with its done mark below.
    const effects = verdict?.run && h.dedupe?.transactional ? new PendingEffects() : undefined;
    if (effects) Object.defineProperty(event, 'transaction', { value: effects, enumerable: false, configurable: true });

    const span = handlerSpan(`${h.topic} process`, event, this.report.attributes(h, event.id));
    const run = await runHandler(
      [event],
      () => span.run(() => h.invoke(event)),
      h.handlerTimeoutMs,
      this.shutdown.cut,
      cancel,
      !verdict?.run,
    );
    let answer = answerOf(run);
    let commitCalls = 0;
    if (effects && verdict?.run && run.kind === 'returned') {
      // SUCCESS only once the handler's writes and the done mark have landed together.
      const commit = await verdict.commit(effects.operations);
      commitCalls = commit.calls;
      if (!commit.committed) {
        answer = {
          status: 'RETRY',
          reason: 'failed',
          error: new Error(`its state changes were not committed: ${commit.why}`),
        };
      }
    }
    answer = await this.bounded(h, event.id, answer);
    span.end(answer.status, answer.error);
    if (run.kind === 'timeout') this.finishLate(h, [event], run, [verdict], cancel, effects);
    await this.settle(h, event.id, false, answer, run, verdict, commitCalls);
    return answer.status;
  }

  /**
   * One bulk delivery; resolves to a status per entry (in the order received), or to why the body
   * is not a bulk delivery at all (no entry can then be answered).
   */
  async bulk(
    h: SubscriptionHandler,
    body: Parsed<unknown>,
  ): Promise<Parsed<Array<{ entryId: string; status: DaprEventStatus }>>> {
    const parsed = body.ok ? bulkEntries(body.value, h) : body;
    if (!parsed.ok) {
      this.logger.error(`${h.name}: bulk delivery on ${h.pubsub}/${h.topic} refused: ${parsed.reason}`);
      return parsed;
    }
    const entries = parsed.value;
    // Decided once: an entry whose claim was taken before a cut during the checks is run (and cut) instead.
    const tooLate = this.shutdown.cut?.aborted === true;
    const statuses = new Map<string, DaprEventStatus>();
    const runnable: Array<{ entry: BulkEntry & { event: DaprEvent }; verdict?: DedupeVerdict & { run: true } }> = [];
    // One signal for the batch's handler call: a claim lost by any of its events stops it.
    const cancel = new AbortController();
    const verdicts = await Promise.all(
      entries.map(async (entry) => {
        if (!entry.event) {
          statuses.set(entry.entryId, this.report.invalid(h, true, entry.entryId, entry.invalid ?? 'not an event'));
          return undefined;
        }
        this.report.received(h, entry.event.id, true);
        if (tooLate) return undefined;
        return h.dedupe ? this.consumer.begin(h, entry.event, lostClaim(cancel)) : undefined;
      }),
    );
    entries.forEach((entry, i) => {
      const verdict = verdicts[i];
      if (!entry.event) return;
      if (tooLate) statuses.set(entry.entryId, this.report.tooLate(h, entry.event.id, true));
      else if (verdict && !verdict.run)
        statuses.set(entry.entryId, this.report.skipped(h, entry.event.id, true, verdict));
      else runnable.push({ entry: entry as BulkEntry & { event: DaprEvent }, verdict });
    });

    if (runnable.length > 0) {
      const events = runnable.map((r) => r.entry.event);
      const span = handlerSpan(
        `${h.topic} process`,
        {},
        { ...this.report.attributes(h), 'messaging.batch.message_count': String(events.length) },
        events,
      );
      const held = runnable.some((r) => r.verdict?.run);
      const run = await runHandler(
        events,
        () => span.run(() => h.invoke(events)),
        h.handlerTimeoutMs,
        this.shutdown.cut,
        cancel,
        !held,
      );
      const answers = await Promise.all(
        bulkAnswers(h, run, events.length, this.logger).map((a, i) => this.bounded(h, events[i].id, a)),
      );
      span.end(answers.every((a) => a.status === 'SUCCESS') ? 'SUCCESS' : 'PARTIAL');
      if (run.kind === 'timeout')
        this.finishLate(
          h,
          events,
          run,
          runnable.map((r) => r.verdict),
          cancel,
        );
      await Promise.all(
        runnable.map(async ({ entry, verdict }, i) => {
          statuses.set(entry.entryId, answers[i].status);
          await this.settle(h, entry.event.id, true, answers[i], run, verdict);
        }),
      );
    }
    return {
      ok: true,
      value: entries.map((e) => ({ entryId: e.entryId, status: statuses.get(e.entryId) ?? 'RETRY' })),
    };
  }

  /**
   * A handler that outlived its timeout was answered `RETRY`; when it ends, its claims are settled
   * as if it had ended in time (done mark or release), so the redelivery is suppressed or runs.
   */
  private finishLate(
    h: SubscriptionHandler,
    events: DaprEvent[],
    run: HandlerRun & { kind: 'timeout' },
    verdicts: Array<DedupeVerdict | undefined>,
    cancel: AbortController,
    effects?: PendingEffects,
  ): void {
    const letGo = holdLate(h, events, run, verdicts, cancel, this.logger);
    void run.late
      .then(async (late) => {
        if (letGo) clearTimeout(letGo);
        const ended: HandlerRun = late.ok
          ? { kind: 'returned', value: late.value, durationMs: run.durationMs }
          : { kind: 'threw', error: late.error, durationMs: run.durationMs };
        const answers = h.bulk ? bulkAnswers(h, ended, events.length, this.logger) : [answerOf(ended)];
        const after = run.cause === 'shutdown' ? "shutdown's grace" : `its ${h.handlerTimeoutMs} ms timeout`;
        this.logger.warn(
          `${h.name}: ${events.length === 1 ? `event ${events[0].id}` : `a batch of ${events.length} events`} on ${h.pubsub}/${h.topic} ` +
            `ended after ${after} (${late.ok ? 'returned' : `threw: ${messageOf(late.error)}`}); it had been answered RETRY`,
        );
        const late0 = verdicts[0];
        if (effects && late0?.run && answers[0]?.status === 'SUCCESS') {
          const commit = await late0.commit(effects.operations);
          if (!commit.committed) {
            this.logger.error(
              `${h.name}: event ${events[0].id}: the late handler's state changes were not committed (${commit.why}); a redelivery runs it again`,
            );
          }
          return;
        }
        await Promise.all(verdicts.map((v, i) => (v?.run ? v.finish(answers[i]?.status === 'SUCCESS') : 0)));
      })
      .catch((error: unknown) => this.logger.error(`${h.name}: settling a late handler failed: ${messageOf(error)}`));
  }

  /**
   * After a handler ran: its dedupe claim settled (done mark or release; a timed-out run is settled
   * later by `finishLate`), the log line and the `eventHandled` event.
   */
  private async settle(
    h: SubscriptionHandler,
    id: string,
    bulk: boolean,
    answer: Answer,
    run: HandlerRun,
    verdict: DedupeVerdict | undefined,
    commitCalls = 0,
  ): Promise<void> {
    let calls = (verdict?.calls ?? 0) + commitCalls;
    if (verdict?.run && run.kind !== 'timeout') calls += await verdict.finish(answer.status === 'SUCCESS');
    this.report.log(h, id, answer, run);
    this.report.handled(h, id, bulk, {
      status: answer.status,
      reason: answer.reason,
      handlerRan: true,
      durationMs: run.durationMs,
      dedupeCalls: calls,
      error: answer.error === undefined ? undefined : messageOf(answer.error),
    });
  }

  /** The answer after the delivery limit: a failure that reaches `maxDeliveries` becomes `DROP`. */
  private bounded(h: SubscriptionHandler, id: string, answer: Answer): Promise<Answer> | Answer {
    return this.limit ? this.limit.apply(h, id, answer) : answer;
  }
}
