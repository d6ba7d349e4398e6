import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitState } from '../circuit-breaker/circuit-state';
import { DaprResult, PublishOptions } from '../dapr/dapr.interfaces';
import { UndeliveredEvent } from './republish-source.interface';

/** What the publishing part of a pass needs. @internal */
export interface PassContext {
  concurrency: number;
  /** True once the republisher is stopping: no new publish starts. */
  stopped: () => boolean;
  publish(pubsub: string, topic: string, data: unknown, options: PublishOptions): Promise<DaprResult<void>>;
  breakerFor(pubsub: string): CircuitBreaker;
  /** Marks an event in the source; never rejects. */
  mark(what: 'markPublished' | 'markFailed', event: UndeliveredEvent, error?: string): Promise<void>;
}

/** What the publishing part of a pass did. @internal */
export interface PassOutcome {
  published: number;
  failed: number;
  skipped: number;
  /** When the first breaker found open lets its trial through (epoch ms). */
  earliestTrial?: number;
}

/**
 * What a pass waits for at the moment: a call of the source (`source`), publishes and marks in
 * flight. When shutdown abandons the pass, its log line names this. @internal
 */
export class PassProgress {
  source = '';
  publishes = 0;
  marks = 0;

  /** Counts `work` under `key` while it runs. */
  async count<T>(key: 'publishes' | 'marks', work: Promise<T>): Promise<T> {
    this[key] += 1;
    try {
      return await work;
    } finally {
      this[key] -= 1;
    }
  }

  describe(): string {
    if (this.source) return `the source's ${this.source}`;
    const parts: string[] = [];
    if (this.publishes > 0) parts.push(`${this.publishes} publish(es) to the sidecar`);
    if (this.marks > 0) parts.push(`${this.marks} markPublished()/markFailed() call(s) of the source`);
    return parts.length > 0 ? parts.join(' and ') : 'the end of the pass';
  }
}

/**
 * Publishes `events` with their own ids, at most `concurrency` at a time. An event whose pub/sub
 * breaker is open is skipped (not sent, not marked) and that pub/sub is left alone for the rest of
 * the pass; while a breaker is half-open its one trial goes first and the others wait for it.
 * Never rejects. @internal
 */
export async function publishEvents(events: UndeliveredEvent[], ctx: PassContext): Promise<PassOutcome> {
  const out: PassOutcome = { published: 0, failed: 0, skipped: 0 };
  const queue = [...events];
  const halted = new Set<string>();
  const trials = new Map<string, Promise<void>>();
  const halt = (pubsub: string, breaker: CircuitBreaker) => {
    halted.add(pubsub);
    const at = breaker.retryAt;
    if (at !== undefined && (out.earliestTrial === undefined || at < out.earliestTrial)) out.earliestTrial = at;
  };

  const publishOne = async (event: UndeliveredEvent, breaker: CircuitBreaker): Promise<void> => {
    let result: DaprResult<void>;
    try {
      result = await ctx.publish(event.pubsub, event.topic, event.data, { ...event.options, eventId: event.eventId });
    } catch (error) {
      result = { ok: false, error: `publish failed: ${describe(error)}`, code: 'ERR_INTERNAL' };
    }
    if (result.ok) {
      out.published += 1;
      await ctx.mark('markPublished', event);
    } else if (result.code === 'ERR_CIRCUIT_OPEN') {
      // Refused without being sent: not an attempt, nothing to mark.
      halt(event.pubsub, breaker);
      out.skipped += 1;
    } else {
      out.failed += 1;
      await ctx.mark('markFailed', event, result.error);
    }
  };

  const worker = async (): Promise<void> => {
    for (let event = queue.shift(); event !== undefined; event = queue.shift()) {
      if (ctx.stopped()) {
        out.skipped += 1 + queue.splice(0).length;
        return;
      }
      const fault = eventFault(event);
      if (fault) {
        out.failed += 1;
        await ctx.mark('markFailed', event, `not republished: ${fault}`);
        continue;
      }
      const pubsub = event.pubsub;
      for (let trial = trials.get(pubsub); trial; trial = trials.get(pubsub)) await trial;
      const breaker = ctx.breakerFor(pubsub);
      const state = breaker.state;
      if (halted.has(pubsub) || state === CircuitState.Open) {
        halt(pubsub, breaker);
        out.skipped += 1;
        continue;
      }
      const attempt = publishOne(event, breaker);
      if (state === CircuitState.HalfOpen) {
        // The breaker's one trial: the other workers of this pub/sub wait for its verdict. Set
        // before this worker's first await, so no other worker can slip in beside it.
        trials.set(pubsub, attempt);
        void attempt.finally(() => trials.delete(pubsub));
      }
      await attempt;
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.concurrency, queue.length) }, () => worker()));
  return out;
}

/** What makes an event impossible to publish, or `undefined`. */
function eventFault(e: UndeliveredEvent): string | undefined {
  if (typeof e !== 'object' || e === null) return 'the event is not an object';
  if (typeof e.eventId !== 'string' || e.eventId.length === 0) return 'eventId must be a non-empty string';
  if (typeof e.pubsub !== 'string' || e.pubsub.length === 0) return 'pubsub must be a non-empty string';
  if (typeof e.topic !== 'string' || e.topic.length === 0) return 'topic must be a non-empty string';
  return undefined;
}

/**
 * An error of the app's source as a short line: its name and message, cut at 300 characters, with
 * any URL userinfo (`scheme://user:pass@`) masked. @internal
 */
export function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1***@').slice(0, 300);
}
