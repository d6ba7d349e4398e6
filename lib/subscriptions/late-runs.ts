import { Logger } from '@nestjs/common';
import { DaprEvent } from './dapr-event.interface';
import { DedupeVerdict } from './dedupe/consumer-terms';
import { HandlerRun } from './handler-run';
import { SubscriptionHandler } from './subscription-definition';

/**
 * A handler past its timeout that holds dedupe claims goes on under them (renewed: no other run
 * can start, so its signal was left alone), for at most one more lease. Then its signal is
 * aborted (`TimeoutError`) and its claims are let go: they lapse with their lease, and a
 * redelivery may run the event elsewhere. Without claims (no dedupe), the signal was aborted at
 * the timeout already.
 */
export function holdLate(
  h: SubscriptionHandler,
  events: DaprEvent[],
  run: HandlerRun & { kind: 'timeout' },
  verdicts: Array<DedupeVerdict | undefined>,
  cancel: AbortController,
  logger: Logger,
): NodeJS.Timeout | undefined {
  if (run.cause !== 'timeout' || !h.dedupe || !verdicts.some((v) => v?.run)) return undefined;
  const leaseMs = h.dedupe.leaseSec * 1000;
  const timer = setTimeout(() => {
    const what = events.length === 1 ? `event ${events[0].id}` : `a batch of ${events.length} events`;
    logger.error(
      `${h.name}: ${what} on ${h.pubsub}/${h.topic} still running ${leaseMs / 1000} s (a lease) after its ` +
        `${h.handlerTimeoutMs} ms timeout: its signal is aborted and its dedupe claim let go (a redelivery may run it elsewhere)`,
    );
    if (!cancel.signal.aborted) {
      cancel.abort(
        new DOMException(
          `the handler ran a lease (${leaseMs / 1000} s) past its ${h.handlerTimeoutMs} ms timeout: its dedupe claim is let go`,
          'TimeoutError',
        ),
      );
    }
    for (const v of verdicts) if (v?.run) v.letGo();
  }, leaseMs);
  timer.unref();
  return timer;
}
