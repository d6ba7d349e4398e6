import type { IncomingMessage, ServerResponse } from 'node:http';
import { drain, readBody } from './body-reader';
import { Answer, DeliveryBody, headerReaderOf, SUBSCRIBE_PATH, SubscriptionServer } from './subscription-server';

type Next = (error?: unknown) => void;
type ExpressRequest = IncomingMessage & { originalUrl?: string; body?: unknown };
type Middleware = (req: ExpressRequest, res: ServerResponse, next: Next) => void;
/** Express tells error middleware by its four parameters. */
type ErrorMiddleware = (error: unknown, req: ExpressRequest, res: ServerResponse, next: Next) => void;

/** The part of an Express app this file uses (typed here: the library does not depend on Express). */
export interface ExpressLike {
  get(path: string, handler: (req: ExpressRequest, res: ServerResponse) => void): unknown;
  use(path: string, handler: Middleware | ErrorMiddleware): unknown;
}

/**
 * Mounts the deliveries: a middleware on the route prefix that serves the POSTs whose path a
 * handler owns, reading the body itself up to `maxBodyBytes` (bulk included), and passes every
 * other request on (`next()`), as it does while `serverOf()` has no server (no handlers, or not
 * discovered yet). Mounted before the app's body parsers when the module can (with
 * `NestFactory.create`, see `SubscriptionsService`), so that no parser limit applies to deliveries.
 *
 * When something before it took the body anyway, the delivery is answered as `unavailable`
 * (RETRY, never DROP): a middleware that read the stream and left no `req.body`, or a body
 * parser's error (e.g. its 413 `entity.too.large`), which the error middleware mounted here
 * catches for these paths only; other errors, and other paths, go on to the app's error handling.
 * A body a parser did read is used as it left it in `req.body`.
 */
export function mountDeliveries(
  app: ExpressLike,
  prefixPath: string,
  serverOf: () => SubscriptionServer | undefined,
): void {
  const owner = (req: ExpressRequest) => {
    const server = serverOf();
    const handled = server && req.method === 'POST' && server.handlerFor(urlOf(req)) !== undefined;
    return handled ? server : undefined;
  };
  app.use(prefixPath, (req: ExpressRequest, res: ServerResponse, next: Next) => {
    const server = owner(req);
    if (!server) return next();
    guard(res, handle(req, res, server));
  });
  app.use(prefixPath, (error: unknown, req: ExpressRequest, res: ServerResponse, next: Next) => {
    const server = owner(req);
    if (!server || !isBodyParserError(error)) return next(error);
    guard(res, handle(req, res, server, { kind: 'unavailable', cause: parserCause(error, prefixPath) }));
  });
}

/**
 * Serves `GET /dapr/subscribe`, and on the route prefix what `mountDeliveries` passed on: a POST to
 * a path no handler owns is answered 404 (401 first without the token). Mounted when the handlers
 * are found, after Nest's own routes and before its not-found handler.
 */
export function serveOnExpress(app: ExpressLike, server: SubscriptionServer): void {
  app.get(SUBSCRIBE_PATH, (req, res) => {
    const header = headerReaderOf(req.headers);
    send(res, server.authorized(header) ? server.subscribeAnswer() : server.unauthorized());
  });
  app.use(server.prefixPath, (req: ExpressRequest, res: ServerResponse, next: Next) => {
    if (req.method !== 'POST') return next();
    guard(res, handle(req, res, server));
  });
}

async function handle(
  req: ExpressRequest,
  res: ServerResponse,
  server: SubscriptionServer,
  failed?: DeliveryBody,
): Promise<void> {
  const header = headerReaderOf(req.headers);
  if (!server.authorized(header)) return send(res, server.unauthorized());
  const url = urlOf(req);
  const handler = server.handlerFor(url);
  if (!handler) return send(res, server.unknownRoute(url));
  const badType = server.checkContentType(header);
  if (badType) return send(res, badType);
  let body: DeliveryBody;
  if (failed) {
    await drain(req);
    body = failed;
  } else body = await bodyOf(req, server);
  send(res, await server.deliver(handler, header, body));
}

/** The body: read here when nobody read it yet, else what the reader left in `req.body`. */
async function bodyOf(req: ExpressRequest, server: SubscriptionServer): Promise<DeliveryBody> {
  if (!req.readableEnded && !req.readableDidRead) {
    return readBody(req, req.headers['content-length'], server.maxBodyBytes);
  }
  if (req.body !== undefined) return { kind: 'value', value: req.body };
  await drain(req);
  return {
    kind: 'unavailable',
    cause:
      'a middleware before the subscription routes read the request body and left no req.body ' +
      `(a body parser or stream reader mounted for every path): exclude ${server.prefixPath}/… from it, ` +
      'or have it leave what it read in req.body',
  };
}

/** An error of `body-parser` or `raw-body` (http-errors with a `type`, e.g. `entity.too.large`). */
function isBodyParserError(error: unknown): error is { type: string; status?: number; limit?: number } {
  return typeof error === 'object' && error !== null && typeof (error as { type?: unknown }).type === 'string';
}

/** What the parser's error means, without its message (a JSON parse error quotes the body). */
function parserCause(error: { type: string; status?: number; limit?: number }, prefixPath: string): string {
  if (error.type === 'entity.too.large') {
    return (
      `the app's body parser refused it as too large (its limit: ${error.limit ?? '?'} bytes), ahead of the ` +
      "subscription routes, which read up to subscriptions.maxBodyBytes (they come after Nest's parsers when " +
      "the app is a testing module's createNestApplication()): raise that parser's limit " +
      `(app.useBodyParser('json', { limit: '4mb' })) or exclude ${prefixPath}/… from it`
    );
  }
  return (
    `the app's body parser failed on it (${error.type}, HTTP ${error.status ?? '?'}) before the subscription ` +
    `routes could read it: exclude ${prefixPath}/… from that parser`
  );
}

function urlOf(req: ExpressRequest): string {
  return req.originalUrl ?? req.url ?? '';
}

/** Answers 500 (and closes) when a delivery fails outside the server's own answers. */
function guard(res: ServerResponse, handling: Promise<void>): void {
  void handling.catch(() => {
    if (!res.headersSent) send(res, { status: 500, body: { message: 'internal error' }, close: true });
  });
}

function send(res: ServerResponse, answer: Answer): void {
  const payload = JSON.stringify(answer.body);
  res.statusCode = answer.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  if (answer.close) res.setHeader('Connection', 'close');
  res.end(payload);
}
