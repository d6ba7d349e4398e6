import { TerminalCredentials } from '../auth/auth-headers';

/**
 * Who is asking: the tenant, store and terminal of the request being served, with the terminal's
 * credentials. Repositories are singletons, so this is an argument of every call.
 *
 * Auth rule (the Kugelpos services'): `jwtToken` → `Authorization: Bearer <jwt>`; otherwise `apiKey` →
 * `X-API-KEY` plus the query parameter `terminal_id`.
 */
export interface TerminalContext extends TerminalCredentials {
  tenantId: string;
  storeCode: string;
  /** The terminal number inside the store (needed by the tranlog and terminal-info calls). */
  terminalNo?: number | string;
  /** `{tenant}-{store}-{no}`, sent as `terminal_id` in API-key mode. */
  terminalId?: string;
  /** The terminal's API key (a credential: never logged, never in an error). */
  apiKey?: string;
  /** The incoming terminal JWT (a credential: never logged, never in an error). */
  jwtToken?: string;
}

/**
 * A successful answer of a Kugelpos service, as its routers serialise it: every key is always
 * there (`null` when unset). An error answer (4xx, 5xx) is written by field name instead
 * (`user_error`); the repositories read only its status.
 */
export interface ApiEnvelope<T, M = EnvelopeMetadata> {
  success: boolean;
  code: number;
  message: string | null;
  userError: { code: string | null; message: string | null } | null;
  data: T;
  /** Set by the list routes; `null` otherwise. */
  metadata: M | null;
  /** The name of the route's handler. */
  operation: string | null;
}

/** `metadata` of a paginated answer. */
export interface EnvelopeMetadata {
  /** Every matching document, across pages. */
  total: number;
  page: number;
  /** The page size; 0 = no limit. */
  limit: number;
  /** The sort applied, `field:1, field:-1`. */
  sort: string | null;
  /** The filter applied, as the service's database query. */
  filter: Record<string, unknown> | null;
}

/** One page of a paginated list. */
export interface PaginatedResult<T> {
  data: T[];
  metadata: {
    /** All matching documents, across pages (the peer's `metadata.total`). */
    total: number;
    /** The page asked for (1-based). */
    page: number;
    /** The page size asked for (0 = no limit). */
    limit: number;
  };
}
