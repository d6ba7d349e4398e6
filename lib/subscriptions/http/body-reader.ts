import type { Readable } from 'node:stream';

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
