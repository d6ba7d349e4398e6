import { Logger } from '@nestjs/common';
import { isDropEvent } from '../errors/drop-event.error';
import { DaprEventStatus } from './dapr-event.interface';
import { HandlerRun } from './handler-run';
import { SubscriptionHandler } from './subscription-definition';
import { EventOutcomeReason } from './subscription-events';

// How a handler's run maps to daprd's answers, per event and per bulk entry.

/** The answer to one event, and why. */
export type Answer = { status: DaprEventStatus; reason: EventOutcomeReason; error?: unknown };

/** Aborts a handler's signal when its dedupe claim is lost (an `AbortError` naming why). */
export function lostClaim(cancel: AbortController): (why: string) => void {
  return (why) => {
    if (!cancel.signal.aborted) cancel.abort(new DOMException(`the handler was stopped: ${why}`, 'AbortError'));
  };
}

export function answerOf(run: HandlerRun): Answer {
  if (run.kind === 'returned') return { status: 'SUCCESS', reason: 'handled' };
  if (run.kind === 'timeout') return { status: 'RETRY', reason: run.cause };
  if (isDropEvent(run.error)) return { status: 'DROP', reason: 'dropped', error: run.error };
  return { status: 'RETRY', reason: 'failed', error: run.error ?? new Error('the handler threw undefined') };
}

/** One answer per event of a bulk handler's run (see `BulkHandlerResult`). */
export function bulkAnswers(h: SubscriptionHandler, run: HandlerRun, count: number, logger: Logger): Answer[] {
  if (run.kind !== 'returned') return Array.from({ length: count }, () => answerOf(run));
  const value = run.value;
  if (value === undefined || value === null || !Array.isArray(value)) {
    return Array.from({ length: count }, () => ({ status: 'SUCCESS', reason: 'handled' }) as Answer);
  }
  if (value.length !== count) {
    logger.error(`${h.name}: the bulk handler answered ${value.length} of ${count} events; the others → RETRY`);
  }
  return Array.from({ length: count }, (_, i): Answer => {
    if (i >= value.length) return { status: 'RETRY', reason: 'failed', error: 'no answer from the bulk handler' };
    const item: unknown = value[i];
    if (item === undefined || item === null || item === 'SUCCESS') return { status: 'SUCCESS', reason: 'handled' };
    if (item === 'DROP') return { status: 'DROP', reason: 'dropped', error: 'the bulk handler answered DROP' };
    if (isDropEvent(item)) return { status: 'DROP', reason: 'dropped', error: item };
    if (item === 'RETRY') return { status: 'RETRY', reason: 'failed', error: 'the bulk handler answered RETRY' };
    if (item instanceof Error) return { status: 'RETRY', reason: 'failed', error: item };
    return { status: 'RETRY', reason: 'failed', error: `unknown bulk answer ${JSON.stringify(item)?.slice(0, 80)}` };
  });
}
