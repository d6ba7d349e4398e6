const REPOSITORY_ERROR_MARKER = Symbol.for('kugel-comms.RepositoryError');

/** Fields of a `RepositoryError`. */
export interface RepositoryErrorInit {
  /** What was read, e.g. `item master`. */
  collection: string;
  /** The repository operation, e.g. `getItemByCode`. */
  operation: string;
  /** HTTP status of the peer's answer, when there was one (never defaulted to 404). */
  statusCode?: number;
  /** The underlying error (an `HttpClientError`), when the call itself failed. */
  cause?: Error;
}

/**
 * Every repository failure other than "not found": the peer answered an error status (after the
 * client's retries), could not be reached, or answered an envelope that is not what the API
 * promises (the message then says which part is missing or of the wrong type). Messages never
 * hold credentials.
 */
export class RepositoryError extends Error {
  readonly [REPOSITORY_ERROR_MARKER] = true;
  override readonly name = 'RepositoryError';
  readonly collection: string;
  readonly operation: string;
  readonly statusCode?: number;

  constructor(message: string, init: RepositoryErrorInit) {
    super(message, init.cause ? { cause: init.cause } : undefined);
    this.collection = init.collection;
    this.operation = init.operation;
    this.statusCode = init.statusCode;
  }
}

export function isRepositoryError(error: unknown): error is RepositoryError {
  return typeof error === 'object' && error !== null && REPOSITORY_ERROR_MARKER in error;
}
