import { Logger } from '@nestjs/common';
import { terminalAuth } from '../auth/auth-headers';
import { isHttpClientError } from '../errors/http-client.error';
import { NotFoundError } from '../errors/not-found.error';
import { RepositoryError } from '../errors/repository.error';
import { HttpClientHelper } from '../http/http-client.helper';
import { QueryValue } from '../input/query';
import { ResolvedRepositoryOptions } from '../options/resolved-options.interface';
import { TerminalContext } from './repository.interfaces';
import { cacheKey, credentialOf } from './cache-key';
import { RepositoryCache } from './repository-cache';

/** One repository read: what to call and how to describe it in errors. */
export interface WebCall {
  /** The peer's service name (resolved by `HttpClientHelper`). */
  service: string;
  /** Repository method, for errors (`getItemByCode`). */
  operation: string;
  /** What is read, for errors (`item master`). */
  collection: string;
  /** The key looked up, for errors (never a credential). */
  key: string;
  /** Builds the path; runs inside the error mapping, so a value `encodePathSegment` refuses becomes a `RepositoryError`. */
  path: () => string;
  /** Route template for events and metrics. */
  route: string;
  context: TerminalContext;
  /** Query parameters besides the auth ones. */
  params?: Record<string, QueryValue | QueryValue[]>;
  /** `GET` unless said otherwise. */
  method?: 'GET' | 'POST';
  /** JSON body of a POST. */
  body?: unknown;
  /**
   * The credentials to send instead of the context's terminal auth (a service token or the API
   * key), and whether the terminal's API key goes first when the context has both a JWT and a key.
   */
  auth?: { headers: Record<string, string>; params?: Record<string, string> } | 'terminal-api-key-first';
}

/** What a response must hold: `data` of this type (and, for lists, identity fields of each element). */
type Shape = { kind: 'object'; id?: IdField } | { kind: 'array'; id?: IdField };
type IdField = { name: string; type: 'string' | 'number' };

const MAX_SHOWN = 60;

/**
 * The machinery every web repository shares: terminal auth per call, the envelope check, and the
 * error mapping (404 → `NotFoundError`, anything else → `RepositoryError`). Repositories are
 * singletons; nothing here holds per-request state.
 */
export abstract class WebRepository {
  protected readonly logger = new Logger(this.constructor.name);

  protected constructor(
    protected readonly http: HttpClientHelper,
    protected readonly repositoryOptions: ResolvedRepositoryOptions,
  ) {}

  /**
   * Sends the call (a GET unless `call.method` says otherwise) and returns the checked envelope.
   * The auth headers and `terminal_id` come from `terminalAuth(context)` (`terminal_id` defaults to
   * `{tenant}-{store}-{no}`), unless `call.auth` gives others.
   */
  protected async fetchEnvelope(call: WebCall): Promise<Record<string, unknown>> {
    let body: unknown;
    try {
      const auth =
        typeof call.auth === 'object'
          ? { headers: call.auth.headers, params: call.auth.params ?? {} }
          : terminalAuth(
              { ...call.context, terminalId: terminalIdOf(call.context) },
              call.auth === 'terminal-api-key-first' ? 'api-key-first' : 'jwt-first',
            );
      const client = this.http.getServiceClient(call.service);
      const options = { headers: auth.headers, params: { ...call.params, ...auth.params }, route: call.route };
      body =
        call.method === 'POST'
          ? await client.post<unknown>(call.path(), call.body, options)
          : await client.get<unknown>(call.path(), options);
    } catch (error) {
      throw this.mapFailure(call, error);
    }
    return this.checkEnvelope(call, body);
  }

  /** Sends the GET and returns its checked `data` (see `fetchEnvelope` and `dataOf`). */
  protected async fetchData<T>(call: WebCall, shape: Shape): Promise<T> {
    return this.dataOf<T>(call, await this.fetchEnvelope(call), shape);
  }

  /** A cache sized and timed by the `repositories` options. */
  protected newCache<V extends NonNullable<unknown>>(): RepositoryCache<V> {
    return new RepositoryCache<V>({
      ttlMs: this.repositoryOptions.cacheTtlMs,
      maxEntries: this.repositoryOptions.cacheMaxEntries,
    });
  }

  /**
   * The cache key of a read for `context`: tenant, store and the caller's credential digest (an
   * entry is shared only by callers presenting the same credential), then `parts`.
   */
  protected cacheKeyFor(
    context: Pick<TerminalContext, 'tenantId' | 'storeCode' | 'apiKey' | 'jwtToken'>,
    ...parts: Array<string | number | undefined>
  ): string {
    return cacheKey(context.tenantId, context.storeCode, credentialOf(context), ...parts);
  }

  /** `load()`'s answer through `cache` under `cacheKeyFor(context, ...parts)`; the caller gets its own copy. */
  protected async cached<V extends NonNullable<unknown>>(
    cache: RepositoryCache<V>,
    context: TerminalContext,
    parts: Array<string | number | undefined>,
    load: () => Promise<V>,
  ): Promise<V> {
    const value = await cache.getOrLoad(this.cacheKeyFor(context, ...parts), load);
    return structuredClone(value);
  }

  /** `envelope.data`, checked against `shape`. */
  protected dataOf<T>(call: WebCall, envelope: Record<string, unknown>, shape: Shape): T {
    const data = envelope.data;
    if (shape.kind === 'array') {
      if (!Array.isArray(data)) throw this.malformed(call, `"data" is ${describe(data)}, expected an array`);
      data.forEach((element, i) => this.checkDocument(call, element, `data[${i}]`, shape.id));
      return data as T;
    }
    this.checkDocument(call, data, 'data', shape.id);
    return data as T;
  }

  /**
   * Checks the tenant/store (and, when asked, the terminal number) of a context. With `terminalNo`
   * (a terminal id `{tenant}-{store}-{no}` is built from it), `-` is refused in the tenant and store
   * codes: the terminal service splits the id on `-`.
   */
  protected checkContext(
    call: Pick<WebCall, 'operation' | 'collection'>,
    context: TerminalContext,
    needs: Array<'terminalNo'> = [],
  ): void {
    const fail = (why: string) =>
      new RepositoryError(`${call.collection}: ${call.operation}: ${why} (nothing was sent)`, {
        collection: call.collection,
        operation: call.operation,
      });
    if (typeof context !== 'object' || context === null) throw fail('the terminal context is missing');
    for (const field of ['tenantId', 'storeCode'] as const) {
      if (typeof context[field] !== 'string' || context[field].length === 0)
        throw fail(`context.${field} must be a non-empty string`);
    }
    if (needs.includes('terminalNo')) {
      const no = context.terminalNo;
      if (!((typeof no === 'number' && Number.isFinite(no)) || (typeof no === 'string' && no.length > 0))) {
        throw fail('context.terminalNo must be a number or a non-empty string');
      }
      // A terminal id is built from the context: the terminal service splits it on "-".
      for (const field of ['tenantId', 'storeCode'] as const) {
        if (context[field].includes('-')) {
          throw fail(`context.${field} must not contain "-" (the terminal id {tenant}-{store}-{no} is split on "-")`);
        }
      }
    }
  }

  protected malformed(call: WebCall, what: string): RepositoryError {
    const message = `${call.collection}: ${call.operation} ${show(call.key)}: ${call.service} answered an envelope that is not as promised: ${what}`;
    this.logger.error(message);
    return new RepositoryError(message, { collection: call.collection, operation: call.operation });
  }

  private checkEnvelope(call: WebCall, body: unknown): Record<string, unknown> {
    if (body === undefined || body === '')
      throw this.malformed(call, 'the response body is empty, expected an envelope object');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw this.malformed(call, `the response is ${describe(body)}, expected an envelope object`);
    }
    const envelope = body as Record<string, unknown>;
    if (envelope.success === false) {
      const said = typeof envelope.message === 'string' ? `: ${show(envelope.message, 200)}` : '';
      const code = typeof envelope.code === 'number' ? String(envelope.code) : describe(envelope.code);
      throw this.malformed(call, `"success" is false (code ${code})${said}`);
    }
    if (!('data' in envelope) || envelope.data === undefined) throw this.malformed(call, 'it has no "data"');
    return envelope;
  }

  private checkDocument(call: WebCall, value: unknown, where: string, id?: IdField): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.malformed(call, `"${where}" is ${describe(value)}, expected an object`);
    }
    if (id && typeof (value as Record<string, unknown>)[id.name] !== id.type) {
      throw this.malformed(
        call,
        `"${where}.${id.name}" is ${describe((value as Record<string, unknown>)[id.name])}, expected a ${id.type}`,
      );
    }
  }

  private mapFailure(call: WebCall, error: unknown): Error {
    const label = `${call.collection}: ${call.operation} ${show(call.key)}`;
    if (isHttpClientError(error)) {
      if (error.statusCode === 404) {
        return new NotFoundError(`${label}: not found (${call.service} answered HTTP 404)`, {
          collection: call.collection,
          key: call.key,
          cause: error,
        });
      }
      const attempts = `after ${error.attempts} attempt${error.attempts === 1 ? '' : 's'}`;
      const why =
        error.statusCode !== undefined
          ? `${call.service} answered HTTP ${error.statusCode} ${attempts}`
          : error.code === 'ERR_BAD_REQUEST_INPUT'
            ? `bad input: ${error.message}`
            : error.code === 'ERR_UNKNOWN_SERVICE'
              ? error.message
              : `${call.service} could not be reached: ${error.code ?? 'network error'} ${attempts}`;
      return new RepositoryError(`${label} failed: ${why}`, {
        collection: call.collection,
        operation: call.operation,
        statusCode: error.statusCode,
        cause: error,
      });
    }
    // Not from the HTTP client (a bug or a bad argument): wrap it without quoting anything it holds.
    const name = error instanceof Error ? error.name : typeof error;
    return new RepositoryError(`${label} failed: unexpected ${name}`, {
      collection: call.collection,
      operation: call.operation,
      cause: error instanceof Error ? error : undefined,
    });
  }
}

/** Builds `{tenant}-{store}-{no}` when the context carries no `terminalId`. */
export function terminalIdOf(context: TerminalContext): string | undefined {
  if (context.terminalId) return context.terminalId;
  if (context.terminalNo === undefined || context.terminalNo === '') return undefined;
  return `${context.tenantId}-${context.storeCode}-${context.terminalNo}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function show(value: string, max = MAX_SHOWN): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
