const INPUT_ERROR_MARKER = Symbol.for('kugel-comms.InputError');

/**
 * A caller's value the shared input checks refuse (a body JSON cannot carry, a header value HTTP
 * cannot carry, a query value of the wrong type). Internal: each client turns it into its own
 * failure — `HttpClientError` (code `ERR_BAD_REQUEST_INPUT`) or a `DaprResult` with that code —
 * adding what was being done. The message says what was wrong and never quotes a header value.
 */
export class InputError extends Error {
  readonly [INPUT_ERROR_MARKER] = true;
  override readonly name = 'InputError';
}

export function isInputError(error: unknown): error is InputError {
  return typeof error === 'object' && error !== null && INPUT_ERROR_MARKER in error;
}
