import { TerminalCredentials } from '../auth/auth-headers';

/**
 * Who is asking: the tenant, store and terminal of the request being served, with the terminal's
 * credentials. Repositories are singletons, so this is an argument of every call.
 *
 * Auth rule (as the original): `jwtToken` → `Authorization: Bearer <jwt>`; otherwise `apiKey` →
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

/** The response envelope every Kugelpos service answers with. */
export interface ApiEnvelope<T, M = EnvelopeMetadata> {
  success: boolean;
  code: number;
  message: string;
  userError?: unknown;
  data: T;
  metadata?: M;
  operation?: string;
}

/** `metadata` of a paginated answer. */
export interface EnvelopeMetadata {
  total: number;
  page?: number;
  limit?: number;
  sort?: unknown;
  filter?: unknown;
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
