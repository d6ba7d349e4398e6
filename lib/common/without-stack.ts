/**
 * Makes an error without capturing a stack trace (V8's documented `Error.stackTraceLimit`, set to
 * 0 for the synchronous construction and restored). For an error that is only ever the `cause` of
 * another made at the same place: its stack would repeat the outer error's, and capturing it is
 * a large share of a call that an open breaker refuses.
 * @internal
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
