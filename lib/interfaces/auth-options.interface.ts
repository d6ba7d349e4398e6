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
  /** Lifetime in seconds, at most 3600. @default 300 */
  expiresInSec?: number;
  /** `iss` claim. @default none */
  issuer?: string;
  /** `aud` claim. @default none */
  audience?: string;
}
