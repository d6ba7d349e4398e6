const NOT_FOUND_MARKER = Symbol.for('kugel-comms.NotFoundError');

/** Fields of a `NotFoundError`. */
export interface NotFoundErrorInit {
  /** What was looked up, e.g. `item master`. */
  collection: string;
  /** The key that was not found (an item code, a staff id, ...). Never a credential. */
  key: string;
  /** The error of the failed call (an `HttpClientError` with status 404). */
  cause?: Error;
}

/**
 * A repository read whose peer answered 404: the document does not exist. Any other failure is a
 * `RepositoryError`. The message names the collection and the key, never a credential.
 */
export class NotFoundError extends Error {
  readonly [NOT_FOUND_MARKER] = true;
  override readonly name = 'NotFoundError';
  readonly collection: string;
  readonly key: string;

  constructor(message: string, init: NotFoundErrorInit) {
    super(message, init.cause ? { cause: init.cause } : undefined);
    this.collection = init.collection;
    this.key = init.key;
  }
}

export function isNotFoundError(error: unknown): error is NotFoundError {
  return typeof error === 'object' && error !== null && NOT_FOUND_MARKER in error;
}
