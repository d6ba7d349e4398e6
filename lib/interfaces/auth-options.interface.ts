/** Credentials used by the auth helpers and the repositories (`auth.*`). */
export interface AuthOptions {
  /** API key sent as `X-API-KEY` by the fallback pattern. @default none */
  apiKey?: string;
  /** Service token (JWT) minted for service-to-service calls. @default none (no service tokens) */
  serviceToken?: ServiceTokenOptions;
}

/** How service tokens are signed (`auth.serviceToken`). */
export interface ServiceTokenOptions {
  /** Shared HMAC secret (or a PEM private key for RS/ES algorithms). */
  secret: string;
  /** Signing algorithm; `none` is refused. @default 'HS256' */
  algorithm?: 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';
  /**
   * Lifetime in milliseconds, from 1000 to 3600000 (an hour). A JWT's `exp` is in whole seconds:
   * the lifetime is rounded down to a second.
   * @default 300000
   */
  expiresInMs?: number;
  /**
   * @deprecated Use `expiresInMs` (in milliseconds: the old value × 1000); accepted, with a warning
   * at boot, until the next minor version.
   */
  expiresInSec?: number;
  /** `iss` claim (the Kugelpos services do not check it). @default none */
  issuer?: string;
  /*
   * No `audience` here: one audience for every token would reach the Kugelpos services too, and
   * they refuse a token that has one. A call to a receiver that checks `aud` asks for it:
   * `createServiceToken(tenantId, serviceName, { audience })`.
   */
}
