import type { Readable } from 'node:stream';

/** A request body read to its end: its bytes, or only its size when it was over the limit. */
export type ReadBody = { kind: 'bytes'; bytes: Buffer } | { kind: 'too-large'; size: number };

/**
 * Reads a request body to its end. Up to `limit` bytes are kept; past that (or at once, when the
 * declared `Content-Length` says so) the chunks are counted and thrown away, never kept in memory,
 * and the result is `too-large`. The body is read to its end either way, so the answer that
 * follows is read by the sender instead of meeting a connection closed under a body still being
 * written. Hand-written rather than `body-parser`: the library must not require Express' own
 * packages, and Fastify hands its parsers the same kind of stream.
 */
export function readBody(stream: Readable, declaredLength: string | undefined, limit: number): Promise<ReadBody> {
  const declared = Number(declaredLength);
  let keep = !(Number.isFinite(declared) && declared > limit);
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (keep && size > limit) {
        keep = false;
        chunks = [];
      }
      if (keep) chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(keep ? { kind: 'bytes', bytes: Buffer.concat(chunks, size) } : { kind: 'too-large', size });
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** Reads what is left of a body and throws it away (resolves at its end, or when the stream fails). */
export function drain(stream: Readable): Promise<void> {
  if (stream.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('end', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
    stream.resume();
  });
}
