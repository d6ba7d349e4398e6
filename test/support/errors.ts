import { HttpClientError } from '../../lib';

/** The rejection of `p` (fails the test when `p` resolves). */
export async function errorOf(p: Promise<unknown>): Promise<HttpClientError> {
  try {
    await p;
  } catch (error) {
    return error as HttpClientError;
  }
  throw new Error('expected a rejection');
}
