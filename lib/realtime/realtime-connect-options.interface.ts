import { RealtimeSettings } from '../interfaces/realtime-options.interface';

/** Credentials a connection sends with each opening handshake (evaluated again before every attempt). */
export type RealtimeAuth =
  /** `X-API-KEY`: `true` takes `auth.apiKey`. */
  | { apiKey: true | string }
  /** `Authorization: Bearer <token>`; a function is called before every attempt (a fresh token). */
  | { bearer: string | (() => string | Promise<string>) }
  /**
   * A service token minted for every attempt by `ServiceTokenService.serviceAuthHeaders(tenantId,
   * serviceName)` (`Authorization: Bearer` and `X-Tenant-ID`; the API key when no token can be made).
   */
  | { serviceToken: { tenantId: string; serviceName: string } };

/** A value, or a function giving it before every connection attempt (fresh tokens). */
export type PerAttempt<T> = T | (() => T | Promise<T>);

/** Options of `RealtimeClient.connect(service, path, options)`. */
export interface RealtimeConnectOptions extends RealtimeSettings {
  /** Auth headers of the handshake. */
  auth?: RealtimeAuth;
  /** More handshake headers (values are never logged). */
  headers?: PerAttempt<Record<string, string>>;
  /**
   * Query parameters, percent-encoded. Values of names that look like credentials (`token`, `key`,
   * ...) are shown as `***` wherever the URL is logged or put in an error.
   */
  query?: PerAttempt<Record<string, string | number | boolean>>;
  /** WebSocket subprotocols (`Sec-WebSocket-Protocol`). */
  protocols?: string[];
}
