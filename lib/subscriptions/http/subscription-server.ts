import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { InboundBody, isEventContentType, parseJsonBody } from '../cloud-event';
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
 * Answers (README, "Subscriptions: what each route answers"):
 * - `GET /dapr/subscribe`: 200 and the subscriptions (exactly 200: daprd ignores anything else);
 * - a delivery: 200 `{"status": "SUCCESS" | "RETRY" | "DROP"}`, bulk 200 `{"statuses": [...]}`;
 * - no or wrong `dapr-api-token` when one is configured: 401, before the body is read;
 * - a path under the prefix that no handler owns: 404 (daprd drops the event, dead-letter topic
 *   when set); a `Content-Type` daprd never sends: 415; a body over `maxBodyBytes`: 413;
 *   a bulk body without an `entries` array: 400 (daprd retries the batch).
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

  tooLarge(): Answer {
    return { status: 413, body: { message: `the body exceeds ${this.maxBodyBytes} bytes` }, close: true };
  }

  /** Answers one delivery (single or bulk) to `handler`; counted as in flight until answered (shutdown waits for it, bounded). */
  deliver(handler: SubscriptionHandler, header: HeaderReader, body: InboundBody): Promise<Answer> {
    const answer = this.answer(handler, header, body);
    return this.inFlight ? this.inFlight.track(answer) : answer;
  }

  private async answer(handler: SubscriptionHandler, header: HeaderReader, body: InboundBody): Promise<Answer> {
    const json = parseJsonBody(body);
    if (handler.bulk) {
      const statuses = await this.dispatcher.bulk(handler, json);
      return statuses.ok
        ? { status: 200, body: { statuses: statuses.value } }
        : { status: 400, body: { message: statuses.reason } };
    }
    const status = await this.dispatcher.single(handler, json, {
      traceparent: header('traceparent'),
      tracestate: header('tracestate'),
    });
    return { status: 200, body: { status } };
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
