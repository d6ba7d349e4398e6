import type { HttpClientError } from '../../lib';

/**
 * The rejection of `p` (fails the test when `p` resolves). With `is`, a rejection of another kind
 * is rethrown, so the test fails with the unexpected error itself.
 */
export async function errorOf<E = HttpClientError>(
  p: Promise<unknown>,
  is?: (error: unknown) => error is E,
): Promise<E> {
  try {
    await p;
  } catch (error) {
    if (is && !is(error)) throw error;
    return error as E;
  }
  throw new Error('expected a rejection');
}

/**
 * What `fn` throws (fails the test when it returns). With `is`, an error of another kind is
 * rethrown, so the test fails with the unexpected error itself.
 */
export function thrownBy<E = Error>(fn: () => unknown, is?: (error: unknown) => error is E): E {
  try {
    fn();
  } catch (error) {
    if (is && !is(error)) throw error;
    return error as E;
  }
  throw new Error('expected a throw');
}
