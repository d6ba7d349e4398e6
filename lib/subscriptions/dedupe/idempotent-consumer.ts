import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DaprEvent } from '../dapr-event.interface';
import { SubscriptionHandler } from '../subscription-definition';
import { DedupeStore } from '../../claims/dedupe-store.interface';
import { HeldClaim } from '../../claims/held-claim';
import { ClaimAttempt } from './claim-attempt';
import { ConsumerParts, ConsumerTiming, DedupeVerdict } from './consumer-terms';

/**
 * The idempotent consumer. Per event key, one record in the dedupe store:
 * - a *claim* `{ owner, token, until }`, written with first-write concurrency, so that of two
 *   replicas receiving the same event at once exactly one writes it and runs the handler; it
 *   carries a lease (`until`), renewed while the handler runs (`HeldClaim`);
 * - the *done mark*: the same record turned `done` once the handler returned. A key with a done
 *   mark is answered `SUCCESS` without the handler.
 * A new event costs two round trips (claim, done mark) when its handler ends within the first
 * renewal interval; a copy of a handled one two (claim refused, record read).
 *
 * A refused claim is settled by the one read of the record: done → `SUCCESS`; a claim whose lease
 * runs → `RETRY` (another replica is at it; the redelivery will find its done mark); a lease over
 * (a crashed replica) → take it over with the ETag just read — which also proves it is still not
 * done — and run; a claim this very replica left behind (its answer was lost) and is not running
 * → take it back at once. A store that cannot be read → `RETRY`, the handler never called; a
 * claim whose write has an unknown outcome is read back before anything else. A failed handler
 * releases its claim and writes no done mark, so the next delivery runs it.
 *
 * The claim record lives `ttlSec + leaseSec` and the done mark `ttlSec`. Leases are compared with
 * this replica's clock: replica clocks must agree to well within the lease (NTP).
 */
export class IdempotentConsumer {
  /** This replica, as written in its claims. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Keys whose claims this replica holds now, with what settles them at shutdown. */
  private readonly held = new Map<string, HeldClaim>();
  /** Keys an attempt of this replica is claiming right now (before it holds them, or gives up), with that attempt. */
  private readonly claiming = new Map<string, Promise<unknown>>();
  private readonly now: () => number;

  constructor(
    private readonly store: DedupeStore,
    private readonly logger: Logger,
    private readonly timing: ConsumerTiming,
  ) {
    this.now = timing.now ?? Date.now;
  }

  /** Claims held right now (handlers running, late ones included). */
  get heldClaims(): number {
    return this.held.size;
  }

  /**
   * Keys live under the subscription's pubsub and topic (not the event's `topic` attribute, which a
   * dead-lettered copy keeps from its original topic).
   */
  async begin(
    handler: SubscriptionHandler,
    event: DaprEvent,
    onLost: (why: string) => void = () => undefined,
  ): Promise<DedupeVerdict> {
    const handlerName = handler.name;
    const dedupe = handler.dedupe;
    if (!dedupe) throw new Error(`${handlerName} has no dedupe options`);
    const data = event.data as { test?: unknown } | null;
    if (typeof data === 'object' && data !== null && !Buffer.isBuffer(data) && data.test === 'health-check') {
      return { run: false, calls: 0, status: 'SUCCESS', reason: 'health-check' };
    }
    let key: unknown;
    try {
      key = dedupe.key ? dedupe.key(event) : event.id;
    } catch (error) {
      this.logger.error(
        `${handlerName}: dedupe.key threw for event ${event.id} on ${handler.pubsub}/${handler.topic}: ${(error as Error)?.message} → DROP`,
      );
      return { run: false, calls: 0, status: 'DROP', reason: 'no-dedupe-key' };
    }
    if (typeof key !== 'string' || key.length === 0) {
      this.logger.error(
        `${handlerName}: event ${event.id} on ${handler.pubsub}/${handler.topic} has no dedupe key (dedupe.key gave ${typeof key === 'string' ? 'an empty string' : String(key)}) → DROP`,
      );
      return { run: false, calls: 0, status: 'DROP', reason: 'no-dedupe-key' };
    }
    const recordKey = ['kugel-dedupe', handler.pubsub, handler.topic, key].map(encodeURIComponent).join('|');
    return new ClaimAttempt(this.parts, handler, event, key, recordKey, onLost).run();
  }

  /** Stops renewing every claim (the app is shutting down): their leases run out on their own. */
  abandonAll(): void {
    for (const claim of [...this.held.values()]) claim.abandon();
  }

  /** @internal The parts a claim attempt works with. */
  get parts(): ConsumerParts {
    return {
      owner: this.owner,
      store: this.store,
      logger: this.logger,
      timing: this.timing,
      now: this.now,
      held: this.held,
      claiming: this.claiming,
    };
  }
}
