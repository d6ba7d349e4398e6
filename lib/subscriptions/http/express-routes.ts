import type { IncomingMessage, ServerResponse } from 'node:http';
import { InboundBody } from '../cloud-event';
import { Answer, headerReaderOf, SUBSCRIBE_PATH, SubscriptionServer } from './subscription-server';

/** The part of an Express app this file uses (typed here: the library does not depend on Express). */
interface ExpressLike {
  get(path: string, handler: (req: ExpressRequest, res: ServerResponse) => void): unknown;
  use(path: string, handler: (req: ExpressRequest, res: ServerResponse, next: () => void) => void): unknown;
}

type ExpressRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

/**
 * Serves the routes on an Express app: `GET /dapr/subscribe` and one handler mounted on the route
 * prefix that dispatches by path (so no topic name ever meets Express' path syntax).
 *
 * Bodies: daprd posts single events as `application/cloudevents+json`, which the app's JSON
 * parser leaves alone; they are read here, up to `maxBodyBytes`. Bulk deliveries are
 * `application/json`: when the app's own JSON parser (Nest's, by default) has read them already,
 * its result is used — its size limit applies to them (README, "Body size and content types").
 */
export function serveOnExpress(app: ExpressLike, server: SubscriptionServer): void {
  app.get(SUBSCRIBE_PATH, (req, res) => {
    const header = headerReaderOf(req.headers);
    send(res, server.authorized(header) ? server.subscribeAnswer() : server.unauthorized());
  });
  app.use(server.prefixPath, (req, res, next) => {
    if (req.method !== 'POST') return next();
    void handle(req, res, server).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { message: 'internal error' }, close: true });
    });
  });
}

async function handle(req: ExpressRequest, res: ServerResponse, server: SubscriptionServer): Promise<void> {
  const header = headerReaderOf(req.headers);
  if (!server.authorized(header)) return send(res, server.unauthorized());
  const url = req.originalUrl ?? req.url ?? '';
  const handler = server.handlerFor(url);
  if (!handler) return send(res, server.unknownRoute(url));
  const badType = server.checkContentType(header);
  if (badType) return send(res, badType);
  let body: InboundBody;
  if (req.readableEnded) {
    // A body parser of the app read the stream already; use what it made of it.
    body = { kind: 'value', value: req.body };
  } else {
    const read = await readBody(req, server.maxBodyBytes);
    if (!read) return send(res, server.tooLarge());
    body = { kind: 'bytes', bytes: read };
  }
  send(res, await server.deliver(handler, header, body));
}

/**
 * The request body, or `undefined` when it is larger than `limit` (reading stops there; the answer
 * then closes the connection). Hand-written rather than `body-parser`: the library must not
 * require Express' own packages, and this is the one small thing it needs from them.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
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
