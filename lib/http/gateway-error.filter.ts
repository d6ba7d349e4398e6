import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isBrokenCircuitError } from '../errors/broken-circuit.error';
import { HttpClientError } from '../errors/http-client.error';

/** Options of `GatewayErrorFilter`. */
export interface GatewayErrorFilterOptions {
  /**
   * A peer's 4xx reaches the caller as it is (status and body) for these statuses (`true`: every
   * 4xx). Off by default: a peer's 4xx answers a request this service made, not the caller's, so
   * it is a 502 unless the service knows the caller should see it (a 404 of a lookup it forwards,
   * a 409 it does not resolve).
   * @default false
   */
  passThroughClientErrors?: boolean | number[];
}

/** Injection token of the options, for a filter Nest instantiates (`@UseFilters(GatewayErrorFilter)`). */
export const GATEWAY_ERROR_FILTER_OPTIONS = Symbol.for('kugel-comms.GatewayErrorFilterOptions');

/** What the caller is answered for an `HttpClientError`. */
export interface GatewayAnswer {
  status: number;
  /** Seconds, for `Retry-After` (an open breaker: until its next trial). */
  retryAfterSec?: number;
  body: { statusCode: number; error: string; message: string } | unknown;
}

const TIMEOUTS = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNAVAILABLE = new Set(['ERR_CIRCUIT_OPEN', 'ERR_CANCELED', 'ERR_CLIENT_CLOSED']);

/**
 * The gateway status for a failed call to a peer, as a caller of this service should see it:
 *
 * | the call | answer |
 * |---|---|
 * | timed out (`ECONNABORTED`, `ETIMEDOUT`) | 504 |
 * | its breaker is open (`ERR_CIRCUIT_OPEN`) | 503, `Retry-After` the seconds until the breaker tries again |
 * | cancelled, or the app is shutting down (`ERR_CANCELED`, `ERR_CLIENT_CLOSED`) | 503 |
 * | the peer answered 5xx, reset or refused the connection, or sent an unreadable answer | 502 |
 * | the peer answered 4xx | 502, or the peer's status and body where `passThroughClientErrors` says |
 * | refused before sending (`ERR_BAD_REQUEST_INPUT`: this service's bug) | 500 |
 *
 * A retry budget that ran out ends the call with the failure it stopped retrying (a 503 of the
 * peer, a reset), answered as that failure. The message is the error's own, which holds no
 * credential (sensitive query values are `***`); the peer's body is never sent on, except a passed
 * through 4xx.
 */
export function gatewayAnswer(
  error: HttpClientError,
  options: GatewayErrorFilterOptions = {},
  now: number = Date.now(),
): GatewayAnswer {
  const answer = (status: number, retryAfterSec?: number): GatewayAnswer => ({
    status,
    retryAfterSec,
    body: { statusCode: status, error: reasonOf(status), message: error.message },
  });
  const code = error.code ?? '';
  const status = error.statusCode;
  if (code === 'ERR_BAD_REQUEST_INPUT') return answer(HttpStatus.INTERNAL_SERVER_ERROR);
  if (code === 'ERR_CIRCUIT_OPEN') {
    const retryAt = isBrokenCircuitError(error.cause) ? error.cause.retryAt : undefined;
    const retryAfterSec = retryAt === undefined ? undefined : Math.max(1, Math.ceil((retryAt - now) / 1000));
    return answer(HttpStatus.SERVICE_UNAVAILABLE, retryAfterSec);
  }
  if (UNAVAILABLE.has(code)) return answer(HttpStatus.SERVICE_UNAVAILABLE);
  if (status === undefined && TIMEOUTS.has(code)) return answer(HttpStatus.GATEWAY_TIMEOUT);
  if (status !== undefined && status >= 400 && status < 500 && passesThrough(status, options)) {
    return { status, body: error.response ?? { statusCode: status, error: reasonOf(status), message: error.message } };
  }
  return answer(HttpStatus.BAD_GATEWAY);
}

function passesThrough(status: number, options: GatewayErrorFilterOptions): boolean {
  const p = options.passThroughClientErrors;
  return p === true || (Array.isArray(p) && p.includes(status));
}

function reasonOf(status: number): string {
  switch (status) {
    case 500:
      return 'Internal Server Error';
    case 502:
      return 'Bad Gateway';
    case 503:
      return 'Service Unavailable';
    case 504:
      return 'Gateway Timeout';
    default:
      return 'Error';
  }
}

/**
 * Answers an `HttpClientError` that reached a controller as a gateway status (see `gatewayAnswer`)
 * instead of Nest's bare 500. Install it for the whole app or a controller:
 *
 * ```ts
 * app.useGlobalFilters(new GatewayErrorFilter(app.get(HttpAdapterHost)));
 * // or, with options, as a provider: { provide: APP_FILTER, useClass: GatewayErrorFilter }
 * // and { provide: GATEWAY_ERROR_FILTER_OPTIONS, useValue: { passThroughClientErrors: [404] } }
 * @UseFilters(GatewayErrorFilter) // on a controller
 * ```
 *
 * Works on Express and Fastify (through Nest's HTTP adapter). It logs nothing: the failed call was
 * logged by the client that made it.
 */
@Catch(HttpClientError)
@Injectable()
export class GatewayErrorFilter implements ExceptionFilter<HttpClientError> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(GATEWAY_ERROR_FILTER_OPTIONS) private readonly options: GatewayErrorFilterOptions = {},
  ) {}

  catch(error: HttpClientError, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    const answer = gatewayAnswer(error, this.options ?? {});
    if (answer.retryAfterSec !== undefined) adapter.setHeader(response, 'Retry-After', String(answer.retryAfterSec));
    adapter.reply(response, answer.body, answer.status);
  }
}
