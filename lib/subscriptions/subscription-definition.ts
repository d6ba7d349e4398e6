import { createHash } from 'node:crypto';
import { InvalidSubscriptionError } from '../errors/invalid-subscription.error';
import { DaprEvent } from './dapr-event.interface';
import { DaprSubscribeDeclaration, DaprSubscribeOptions, DedupeOptions } from './dapr-subscribe.decorator';
import { DEFAULTS } from '../options/defaults';
import { ResolvedSubscriptionOptions } from '../options/resolved-options.interface';
import { MAX_TIMER_MS, SERVICE_NAME } from '../options/validators';

export interface ResolvedDedupe {
  store: string;
  ttlSec: number;
  leaseSec: number;
  key?: (event: DaprEvent) => string | undefined | null;
  /** The handler's writes and the done mark commit in one state transaction (`event.transaction`). */
  transactional: boolean;
}

/** One `@DaprSubscribe` handler, validated, with its route. */
export interface SubscriptionHandler {
  /** `Class.method`, for logs and errors. */
  name: string;
  pubsub: string;
  topic: string;
  match?: string;
  priority: number;
  /** Discovery order (ties between equal priorities). */
  order: number;
  /** The route daprd posts to, e.g. `/dapr/events/pubsub/orders`. */
  path: string;
  deadLetterTopic?: string;
  rawPayload: boolean;
  /** Subscription metadata as daprd needs it: string values only. */
  metadata: Record<string, string>;
  bulk?: { maxMessages: number; maxAwaitMs: number };
  dedupe?: ResolvedDedupe;
  /** 0: no timeout. */
  handlerTimeoutMs: number;
  /**
   * Failed deliveries of one event after which it is answered `DROP`: a number, `false` (never),
   * or `'broker'` (a default that depends on the pub/sub component's kind: see `delivery-limit.ts`).
   */
  maxDeliveries: number | false | 'broker';
  /** Calls the method on its instance. */
  invoke: (arg: unknown) => unknown;
}

/** The largest int32: daprd reads the `bulkSubscribe` numbers as int32 (the dedupe seconds share the bound). */
const INT32_MAX = 2_147_483_647;

/** Validates one declaration (`InvalidSubscriptionError` naming the handler) and gives it its route. */
export function defineSubscription(
  name: string,
  declaration: DaprSubscribeDeclaration,
  invoke: (arg: unknown) => unknown,
  options: ResolvedSubscriptionOptions,
  order: number,
): SubscriptionHandler {
  const fail = (what: string): never => {
    throw new InvalidSubscriptionError([name], `@DaprSubscribe on ${name}: ${what}`);
  };
  const { pubsub, topic } = declaration;
  const o: DaprSubscribeOptions = declaration.options ?? {};
  if (typeof pubsub !== 'string' || !SERVICE_NAME.test(pubsub)) {
    fail(`pubsub ${JSON.stringify(pubsub)} must be a Dapr component name (letters, digits, ".", "_", "-")`);
  }
  if (typeof topic !== 'string' || topic.trim().length === 0 || topic === '.' || topic === '..') {
    fail(`topic ${JSON.stringify(topic)} must be a non-empty string (not "." or "..")`);
  }
  if (typeof o !== 'object' || o === null) fail('options must be an object');
  if (o.deadLetterTopic !== undefined && (typeof o.deadLetterTopic !== 'string' || o.deadLetterTopic.length === 0)) {
    fail(`deadLetterTopic ${JSON.stringify(o.deadLetterTopic)} must be a non-empty string`);
  }
  if (o.deadLetterTopic === topic) fail('deadLetterTopic must differ from the topic (a dropped event would loop)');
  if (o.rawPayload !== undefined && typeof o.rawPayload !== 'boolean') fail('rawPayload must be true or false');
  if (o.match !== undefined && (typeof o.match !== 'string' || o.match.trim().length === 0)) {
    fail(`match ${JSON.stringify(o.match)} must be a non-empty CEL expression`);
  }
  const priority = o.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isSafeInteger(priority)) fail('priority must be an integer');
  const handlerTimeoutMs = o.handlerTimeoutMs ?? options.handlerTimeoutMs;
  if (
    typeof handlerTimeoutMs !== 'number' ||
    !Number.isSafeInteger(handlerTimeoutMs) ||
    handlerTimeoutMs < 0 ||
    handlerTimeoutMs > MAX_TIMER_MS
  ) {
    fail(`handlerTimeoutMs ${JSON.stringify(handlerTimeoutMs)} must be an integer from 0 (none) to ${MAX_TIMER_MS}`);
  }

  const dedupe = resolveDedupe(o.dedupe, handlerTimeoutMs, options.sidecarTimeoutMs, fail);
  const maxDeliveries = o.maxDeliveries ?? 'broker';
  if (
    maxDeliveries !== false &&
    maxDeliveries !== 'broker' &&
    (typeof maxDeliveries !== 'number' || !Number.isSafeInteger(maxDeliveries) || maxDeliveries < 1)
  ) {
    fail(`maxDeliveries ${JSON.stringify(maxDeliveries)} must be a whole number from 1, false or 'broker'`);
  }
  if (dedupe?.transactional && o.bulk) {
    fail('dedupe.transactional is not available with bulk: each event commits its own transaction');
  }
  if (dedupe && o.rawPayload && !dedupe.key) {
    fail('dedupe with rawPayload needs dedupe.key: daprd gives a raw event a new id on every delivery');
  }

  const segment = (value: string) => encodeURIComponent(value);
  let path = `/${options.routePrefix}/${segment(pubsub)}/${segment(topic)}`;
  // A rule gets a route of its own, stable across restarts: a digest of its expression.
  if (o.match !== undefined) path += `/match-${createHash('sha256').update(o.match).digest('hex').slice(0, 12)}`;

  return {
    name,
    pubsub,
    topic,
    match: o.match,
    priority,
    order,
    path,
    deadLetterTopic: o.deadLetterTopic,
    rawPayload: o.rawPayload ?? false,
    metadata: stringMetadata(o.metadata, fail),
    bulk: resolveBulk(o.bulk, fail),
    dedupe,
    handlerTimeoutMs,
    maxDeliveries,
    invoke,
  };
}

function stringMetadata(
  metadata: DaprSubscribeOptions['metadata'],
  fail: (what: string) => never,
): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    fail('metadata must be an object of string, number or boolean values');
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (key.length === 0) fail('metadata keys must be non-empty');
    if (key === 'rawPayload') fail('metadata.rawPayload: use the rawPayload option');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      fail(`metadata.${key} must be a string, number or boolean`);
    }
    // daprd decodes the values into a map of strings: a JSON boolean or number there would make it
    // refuse every subscription of the app, declarative ones included.
    out[key] = String(value);
  }
  return out;
}

function resolveBulk(
  bulk: DaprSubscribeOptions['bulk'],
  fail: (what: string) => never,
): SubscriptionHandler['bulk'] | undefined {
  if (bulk === undefined || bulk === false) return undefined;
  const o = bulk === true ? {} : bulk;
  if (typeof o !== 'object' || o === null) fail('bulk must be true, false or { maxMessages, maxAwaitMs }');
  const d = DEFAULTS.subscriptions.bulk;
  const int32 = (what: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > INT32_MAX) {
      fail(`bulk.${what} ${JSON.stringify(value)} must be an integer from 1 to ${INT32_MAX}`);
    }
    return value as number;
  };
  return {
    maxMessages: int32('maxMessages', o.maxMessages ?? d.maxMessages),
    maxAwaitMs: int32('maxAwaitMs', o.maxAwaitMs ?? d.maxAwaitMs),
  };
}

/**
 * The dedupe settings of one subscription. The lease must outlast what a run holds the claim for
 * without a renewal to rely on: the claim's write, the handler up to its timeout, and the done
 * mark's write — each write bounded by the sidecar's timeout (they are sent once).
 */
function resolveDedupe(
  dedupe: DaprSubscribeOptions['dedupe'],
  handlerTimeoutMs: number,
  sidecarTimeoutMs: number,
  fail: (what: string) => never,
): ResolvedDedupe | undefined {
  if (dedupe === undefined || dedupe === false) return undefined;
  const o: DedupeOptions = dedupe === true ? {} : dedupe;
  if (typeof o !== 'object' || o === null) fail('dedupe must be true, false or { store, ttlSec, leaseSec, key }');
  const d = DEFAULTS.subscriptions.dedupe;
  const store = o.store ?? d.store;
  if (typeof store !== 'string' || !SERVICE_NAME.test(store)) {
    fail(`dedupe.store ${JSON.stringify(store)} must be a Dapr component name`);
  }
  const seconds = (what: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > INT32_MAX) {
      fail(`dedupe.${what} ${JSON.stringify(value)} must be a whole number of seconds ≥ 1`);
    }
    return value as number;
  };
  const ttlSec = seconds('ttlSec', o.ttlSec ?? d.ttlSec);
  const leaseSec = seconds('leaseSec', o.leaseSec ?? d.leaseSec);
  const needed = handlerTimeoutMs + 2 * sidecarTimeoutMs;
  if (handlerTimeoutMs > 0 && leaseSec * 1000 <= needed) {
    fail(
      `dedupe.leaseSec (${leaseSec} s) must be longer than the handler timeout (${handlerTimeoutMs} ms) plus two ` +
        `sidecar writes (2 × dapr.timeoutMs = ${2 * sidecarTimeoutMs} ms), ${needed} ms in all: ` +
        'a claim could otherwise expire before its done mark is written',
    );
  }
  if (handlerTimeoutMs === 0 && o.leaseSec === undefined) {
    fail('dedupe without a handler timeout needs an explicit leaseSec longer than the longest handler run');
  }
  if (o.key !== undefined && typeof o.key !== 'function') fail('dedupe.key must be a function (event) => string');
  const transactional = o.transactional ?? false;
  if (typeof transactional !== 'boolean') fail(`dedupe.transactional ${JSON.stringify(transactional)} must be true or false`);
  return { store, ttlSec, leaseSec, key: o.key as ResolvedDedupe['key'], transactional };
}

/**
 * Checks the handlers together: one handler per pubsub/topic/rule (the boot fails naming both),
 * and the handlers of one topic agree on what daprd keeps per topic (dead-letter topic, raw
 * payload, metadata, bulk). Returns them grouped by topic, rules in order.
 */
export function groupByTopic(handlers: SubscriptionHandler[]): SubscriptionHandler[][] {
  const topics = new Map<string, SubscriptionHandler[]>();
  const routes = new Map<string, SubscriptionHandler>();
  for (const h of handlers) {
    const claim = `${h.pubsub}\u0000${h.topic}\u0000${h.match ?? ''}`;
    const other = routes.get(claim);
    if (other) {
      const what = h.match === undefined ? 'the default route (no "match")' : `the rule ${JSON.stringify(h.match)}`;
      throw new InvalidSubscriptionError(
        [other.name, h.name],
        `${other.name} and ${h.name} both claim ${h.pubsub}/${h.topic} with ${what}: one handler per route ` +
          '(give each a different "match" rule to route events between them)',
      );
    }
    routes.set(claim, h);
    const key = `${h.pubsub}\u0000${h.topic}`;
    topics.set(key, [...(topics.get(key) ?? []), h]);
  }
  for (const group of topics.values()) {
    const [first, ...rest] = group;
    for (const h of rest) {
      const differs = (
        [
          ['deadLetterTopic', first.deadLetterTopic, h.deadLetterTopic],
          ['rawPayload', first.rawPayload, h.rawPayload],
          ['metadata', first.metadata, h.metadata],
          ['bulk', first.bulk, h.bulk],
        ] as const
      ).find(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b));
      if (differs) {
        throw new InvalidSubscriptionError(
          [first.name, h.name],
          `${first.name} and ${h.name} subscribe to ${h.pubsub}/${h.topic} with different "${differs[0]}": ` +
            'daprd keeps one per topic, so every handler of a topic must set the same',
        );
      }
    }
    group.sort((a, b) => a.priority - b.priority || a.order - b.order);
  }
  return [...topics.values()];
}
