import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { readBody, ReadBody } from './body-reader';
import { Answer, headerReaderOf, SUBSCRIBE_PATH, SubscriptionServer } from './subscription-server';

/** The parts of Fastify this file uses (typed here: the library does not depend on Fastify). */
interface FastifyRequestLike {
  headers: IncomingHttpHeaders;
  url: string;
  body?: unknown;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload: string): unknown;
}
type Handler = (req: FastifyRequestLike, reply: FastifyReplyLike) => unknown;
interface FastifyScope {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(type: string, parser: (req: FastifyRequestLike, payload: Readable) => Promise<ReadBody>): void;
  addHook(name: 'onRequest', hook: (req: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void): void;
  get(path: string, handler: Handler): void;
  post(path: string, handler: Handler): void;
}
interface FastifyLike {
  register(plugin: (scope: FastifyScope) => Promise<void>): PromiseLike<unknown>;
}

/**
 * Serves the routes on a Fastify instance, inside an encapsulated plugin so that its content-type
 * parser and its token hook apply to these routes only and never change how the app's own routes
 * parse. The token is checked in `onRequest`, before the body is read; one wildcard route under
 * the prefix dispatches by path.
 *
 * The parser takes the body as a stream (any type) and reads it the way the Express routes do: up
 * to `maxBodyBytes` kept, the rest of a larger body read and thrown away, so that the route answers
 * it (a single event DROP, bulk 413, see `SubscriptionServer`) instead of Fastify's own `bodyLimit`
 * error: a 413 for a single event too, which daprd retries, refused each time, before it gives up.
 */
export async function serveOnFastify(fastify: FastifyLike, server: SubscriptionServer): Promise<void> {
  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (req, payload) =>
      readBody(payload, req.headers['content-length'], server.maxBodyBytes),
    );
    scope.addHook('onRequest', (req, reply, done) => {
      if (server.authorized(headerReaderOf(req.headers))) return done();
      send(reply, server.unauthorized());
    });
    scope.get(SUBSCRIBE_PATH, (_req, reply) => send(reply, server.subscribeAnswer()));
    scope.post(`${server.prefixPath}/*`, async (req, reply) => {
      const header = headerReaderOf(req.headers);
      const handler = server.handlerFor(req.url);
      if (!handler) return send(reply, server.unknownRoute(req.url));
      const badType = server.checkContentType(header);
      if (badType) return send(reply, badType);
      // No body at all (Fastify runs no parser then): an empty one.
      const body = (req.body as ReadBody | undefined) ?? { kind: 'bytes', bytes: Buffer.alloc(0) };
      return send(reply, await server.deliver(handler, header, body));
    });
  });
}

function send(reply: FastifyReplyLike, answer: Answer): unknown {
  reply.code(answer.status).header('content-type', 'application/json; charset=utf-8');
  if (answer.close) reply.header('connection', 'close');
  return reply.send(JSON.stringify(answer.body));
}
