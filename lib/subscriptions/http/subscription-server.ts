import { Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { DeliveryTrace, InboundBody, isEventContentType, parseJsonBody } from '../cloud-event';
import { DeliveriesInFlight } from '../deliveries-in-flight';
import { EventDispatcher } from '../event-dispatcher';
import { SubscriptionHandler } from '../subscription-definition';
import { DaprSubscriptionJson, subscriptionList } from '../subscription-list';
import { ResolvedSubscriptionOptions } from '../../options/resolved-options.interface';

/** An HTTP answer, whatever the platform. */
export interface Answer {
  status: number;
  body: unknown;
  /** Close the connection after answering (a body left unread). */
  close?: boolean;
}

/**
 * A delivery body as a route has it: bytes or a parsed value (`InboundBody`); `too-large`, read to
 * its end and thrown away because it is over `maxBodyBytes`; or `unavailable`, when something
 * before the routes took it (a middleware that read the stream and left no `req.body`, a body
 * parser that failed on it), `cause` saying what and what to do about it.
 */
export type DeliveryBody = InboundBody | { kind: 'too-large'; size: number } | { kind: 'unavailable'; cause: string };

/** Reads a request header (lower-case name; the first value when repeated). */
export type HeaderReader = (name: string) => string | undefined;

/** The `HeaderReader` of Node's request headers (what Express and Fastify both hand over). */
export function headerReaderOf(headers: IncomingHttpHeaders): HeaderReader {
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
}

export const SUBSCRIBE_PATH = '/dapr/subscribe';

/**
 * The platform-neutral half of the routes: the token check, `GET /dapr/subscribe`, the route
 * table and the answer to a delivery. `express-routes.ts` and `fastify-routes.ts` only move bytes.
 *
 * Answers (the table in docs/subscriptions.md, "What the handler's outcome means"):
 * - `GET /dapr/subscribe`: 200 and the subscriptions (exactly 200: daprd ignores anything else);
 * - a delivery: 200 `{"status": "SUCCESS" | "RETRY" | "DROP"}`, bulk 200 `{"statuses": [...]}`;
 * - no or wrong `dapr-api-token` when one is configured: 401, before the body is read;
 * - a path under the prefix that no handler owns: 404 (daprd drops the event, dead-letter topic
 *   when set); a `Content-Type` daprd never sends: 415; a bulk body without an `entries` array: 400
 *   (daprd retries the batch);
 * - a body over `maxBodyBytes`: a single event is answered DROP (it can never fit: to the
 *   dead-letter topic), a bulk one 413 (it cannot be split into entries: daprd retries each, then
 *   dead-letters them); a body the routes never got (`unavailable`): RETRY, bulk 500. Each with an
 *   ERROR log saying what to change.
 */
export class SubscriptionServer {
  readonly prefixPath: string;
  readonly maxBodyBytes: number;
  private readonly routes = new Map<string, SubscriptionHandler>();
  private readonly list: DaprSubscriptionJson[];
  private readonly tokenDigest?: Buffer;

  constructor(
    topics: SubscriptionHandler[][],
    options: ResolvedSubscriptionOptions,
    private readonly dispatcher: EventDispatcher,
    private readonly logger: Logger,
    private readonly inFlight?: DeliveriesInFlight,
  ) {
    this.prefixPath = `/${options.routePrefix}`;
    this.maxBodyBytes = options.maxBodyBytes;
    for (const group of topics) for (const h of group) this.routes.set(canonicalPath(h.path)!, h);
    this.list = subscriptionList(topics);
    if (options.appApiToken !== undefined) this.tokenDigest = digest(options.appApiToken);
  }

  /** The `GET /dapr/subscribe` body. */
  get subscriptions(): DaprSubscriptionJson[] {
    return this.list;
  }

  /**
   * Whether the call carries the app token (always true when none is configured). Compared in
   * constant time over SHA-256 digests, so neither the content nor the length leaks by timing.
   */
  authorized(header: HeaderReader): boolean {
    if (!this.tokenDigest) return true;
    const sent = header('dapr-api-token');
    return sent !== undefined && timingSafeEqual(digest(sent), this.tokenDigest);
  }

  unauthorized(): Answer {
    return { status: 401, body: { message: 'missing or wrong dapr-api-token' }, close: true };
  }

  subscribeAnswer(): Answer {
    return { status: 200, body: this.list };
  }

  /** The handler owning a request path (query ignored; percent-encoding normalised). */
  handlerFor(url: string): SubscriptionHandler | undefined {
    const path = canonicalPath(url.split('?')[0]);
    return path === undefined ? undefined : this.routes.get(path);
  }

  unknownRoute(url: string): Answer {
    const shown = url.split('?')[0].slice(0, 200);
    return { status: 404, body: { message: `no @DaprSubscribe handler serves ${shown}` } };
  }

  /** 415 when the `Content-Type` is not one daprd sends, else undefined. */
  checkContentType(header: HeaderReader): Answer | undefined {
    if (isEventContentType(header('content-type'))) return undefined;
    return {
      status: 415,
      body: { message: 'event routes take application/cloudevents+json or application/json' },
      close: true,
    };
  }

  /** Answers one delivery (single or bulk) to `handler`; counted as in flight until answered (shutdown waits for it, bounded). */
  deliver(handler: SubscriptionHandler, header: HeaderReader, body: DeliveryBody): Promise<Answer> {
    const answer = this.answer(handler, header, body);
    return this.inFlight ? this.inFlight.track(answer) : answer;
  }

  private async answer(handler: SubscriptionHandler, header: HeaderReader, body: DeliveryBody): Promise<Answer> {
    const trace = { traceparent: header('traceparent'), tracestate: header('tracestate') };
    if (body.kind === 'too-large') return this.oversize(handler, body.size, trace);
    if (body.kind === 'unavailable') return this.unavailable(handler, body.cause);
    const json = parseJsonBody(body);
    if (handler.bulk) {
      const statuses = await this.dispatcher.bulk(handler, json);
      return statuses.ok
        ? { status: 200, body: { statuses: statuses.value } }
        : { status: 400, body: { message: statuses.reason } };
    }
    const status = await this.dispatcher.single(handler, json, trace);
    return { status: 200, body: { status } };
  }

  /**
   * A body over `maxBodyBytes` can never be read, however often daprd sends it. A single event is
   * dropped, so that daprd moves it to the dead-letter topic (which keeps it) at once instead of
   * spending its retries on it. A bulk body cannot be answered per entry without its entries: 413,
   * and daprd retries every entry, then dead-letters them; only the settings can make such batches
   * fit, and the log says which.
   */
  private async oversize(h: SubscriptionHandler, size: number, trace: DeliveryTrace): Promise<Answer> {
    const over = `its body (${size} bytes) is over subscriptions.maxBodyBytes (${this.maxBodyBytes} bytes)`;
    if (!h.bulk) {
      const reason = `${over}; it was discarded unread and can never fit (raise maxBodyBytes if events this large are expected)`;
      return { status: 200, body: { status: await this.dispatcher.single(h, { ok: false, reason }, trace) } };
    }
    this.logger.error(
      `${h.name}: bulk delivery on ${h.pubsub}/${h.topic} refused: ${over} and cannot be split into entries → 413 ` +
        `(daprd retries every entry, then dead-letters them): raise subscriptions.maxBodyBytes or lower ` +
        `bulk.maxMessages (${h.bulk.maxMessages})`,
    );
    return { status: 413, body: { message: `the body exceeds ${this.maxBodyBytes} bytes` } };
  }

  /**
   * The body never reached the routes whole: nothing is wrong with the event, only with how the app
   * is set up, so daprd is asked to deliver it again (RETRY; bulk: a non-2xx, every entry retried)
   * and never to drop it.
   */
  private unavailable(h: SubscriptionHandler, cause: string): Answer {
    const what = h.bulk ? 'bulk delivery' : 'delivery';
    const answer = h.bulk ? '500 (daprd retries every entry)' : 'RETRY';
    this.logger.error(`${h.name}: ${what} on ${h.pubsub}/${h.topic} could not be read: ${cause} → ${answer}`);
    return h.bulk
      ? { status: 500, body: { message: 'the delivery body could not be read' } }
      : { status: 200, body: { status: 'RETRY' } };
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Each segment decoded and encoded again, so `%7e`, `~` and `%7E` are one path; `undefined` when malformed. */
function canonicalPath(path: string): string | undefined {
  try {
    return path
      .split('/')
      .map((s) => encodeURIComponent(decodeURIComponent(s)))
      .join('/')
      .replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
