import { AxiosError, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { withFault } from './adapter-fault';

// The errors an adapter of the pooled clients rejects with, made as axios' own http adapter makes
// them (its messages and codes), plus the adapter fault where axios has no code of its own. The
// node:http adapter and the testing module's in-memory one both use them, so the call runner,
// axios-retry and the breaker see the same failure from either.

/** A request body over `maxBodyLength`: refused before anything was written (`not-sent`). */
export function bodyTooLargeError(config: InternalAxiosRequestConfig): AxiosError {
  const error = new AxiosError('Request body larger than maxBodyLength limit', AxiosError.ERR_BAD_REQUEST, config);
  return withFault(error, 'not-sent');
}

/** An answer over `maxContentLength` (`too-large`). */
export function answerTooLargeError(config: InternalAxiosRequestConfig, request?: unknown): AxiosError {
  const limit = config.maxContentLength ?? -1;
  const message = `maxContentLength size of ${limit} exceeded`;
  return withFault(new AxiosError(message, AxiosError.ERR_BAD_RESPONSE, config, request), 'too-large');
}

/** An attempt past `timeout` (axios' `ECONNABORTED`). */
export function timeoutError(config: InternalAxiosRequestConfig, request?: unknown): AxiosError {
  return new AxiosError(`timeout of ${config.timeout ?? 0}ms exceeded`, 'ECONNABORTED', config, request);
}

/**
 * The answer, or the error of a status the request's `validateStatus` refuses (`ERR_BAD_REQUEST`
 * for a 4xx, `ERR_BAD_RESPONSE` otherwise), carrying the response.
 */
export function settleStatus(response: AxiosResponse, request?: unknown): AxiosResponse | AxiosError {
  const { config, status } = response;
  if (!config.validateStatus || config.validateStatus(status)) return response;
  const code = status >= 400 && status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
  return new AxiosError(`Request failed with status code ${status}`, code, config, request, response);
}
