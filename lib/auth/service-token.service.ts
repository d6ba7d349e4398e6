import { Inject, Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { headerValueFault } from '../input/headers';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { apiKeyHeaders, bearerHeaders } from './auth-headers';

/**
 * Claims of a service token: the ones the Kugelpos services read (`sub`, `tenant_id`, `service`,
 * `is_service_account`, `is_superuser`), with `exp` and `iat`, `iss` when `auth.serviceToken.issuer` is set, and `aud`
 * only when a call asks for one.
 */
export interface ServiceTokenClaims {
  sub: string;
  tenant_id: string;
  service: string;
  is_service_account: true;
  is_superuser: false;
}

/**
 * How far a token's `iat` is set before the time it is made, in seconds: a receiver whose clock is
 * a little behind ours must not see a token issued "in the future" (PyJWT, which the Kugelpos
 * services verify with, refuses that as not yet valid). The lifetime still runs from now: `exp`
 * is `expiresInMs` (in whole seconds) after the token is made.
 */
export const SERVICE_TOKEN_IAT_LEEWAY_SEC = 30;

/**
 * Service-to-service credentials. `createServiceToken()` mints a short-lived JWT with the
 * configured, pinned algorithm (jsonwebtoken does the signing; the boot signed one already, so the
 * key is known to fit); `serviceAuthHeaders()` gives the token as a bearer when a service token is
 * configured, else the API key.
 *
 * A token carries no `aud` claim unless its call asks for one: the Kugelpos services verify
 * tokens without an expected audience, and that check refuses any token that has one ("Invalid
 * audience"), so a token meant for them must not have it.
 */
@Injectable()
export class ServiceTokenService {
  constructor(@Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions) {}

  /**
   * A JWT `{ sub: "service:<name>", tenant_id, service, is_service_account: true, is_superuser: false }`
   * issued `SERVICE_TOKEN_IAT_LEEWAY_SEC` (30) seconds back and valid for `auth.serviceToken.expiresInMs`
   * (300 s by default, an hour at most) from now. Throws for an empty or non-string `tenantId` or
   * `serviceName`, and when no service token is configured.
   *
   * @param token.audience An `aud` claim, only for a receiver that checks it (never for the
   *   Kugelpos services, which refuse the token then).
   */
  createServiceToken(tenantId: string, serviceName: string, token: { audience?: string } = {}): string {
    checkInput(tenantId, serviceName, 'createServiceToken');
    const audience = token?.audience;
    if (audience !== undefined && (typeof audience !== 'string' || audience.length === 0))
      throw new TypeError('createServiceToken: audience must be a non-empty string when given');
    const config = this.options.auth.serviceToken;
    if (!config) throw new Error('no service token configured: set KugelCommsModule option auth.serviceToken.secret');
    const now = Math.floor(Date.now() / 1000);
    const claims: ServiceTokenClaims & { iat: number; exp: number } = {
      sub: `service:${serviceName}`,
      tenant_id: tenantId,
      service: serviceName,
      is_service_account: true,
      is_superuser: false,
      iat: now - SERVICE_TOKEN_IAT_LEEWAY_SEC,
      exp: now + Math.floor(config.expiresInMs / 1000),
    };
    return jwt.sign(claims, config.secret, {
      algorithm: config.algorithm,
      ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
      ...(audience !== undefined ? { audience } : {}),
    });
  }

  /**
   * Headers for a call made on behalf of a tenant: `Authorization: Bearer <service token>` and
   * `X-Tenant-ID` when `auth.serviceToken` is configured; otherwise `X-API-KEY` from `auth.apiKey`
   * and `X-Tenant-ID`. A configured token is never swapped for the API key: a token that cannot be
   * made is an error (the boot proved the key signs, so only a bad argument gets here), as is an
   * empty tenant or service name, and having neither credential. `token` as for `createServiceToken`.
   */
  serviceAuthHeaders(tenantId: string, serviceName: string, token: { audience?: string } = {}): Record<string, string> {
    checkInput(tenantId, serviceName, 'serviceAuthHeaders');
    if (this.options.auth.serviceToken) {
      return { ...bearerHeaders(this.createServiceToken(tenantId, serviceName, token)), 'X-Tenant-ID': tenantId };
    }
    const apiKey = this.options.auth.apiKey;
    if (!apiKey) {
      throw new Error(
        `no credential for "${serviceName}": configure KugelCommsModule option auth.serviceToken (a service token) or auth.apiKey`,
      );
    }
    return { ...apiKeyHeaders(apiKey), 'X-Tenant-ID': tenantId };
  }
}

/** The tenant travels as `X-Tenant-ID` and in the token; the service name in `sub`. */
function checkInput(tenantId: unknown, serviceName: unknown, what: string): void {
  if (typeof tenantId !== 'string' || tenantId.length === 0 || headerValueFault(tenantId) !== undefined) {
    throw new TypeError(`${what}: tenantId must be a non-empty string that can travel as a header`);
  }
  if (typeof serviceName !== 'string' || serviceName.length === 0) {
    throw new TypeError(`${what}: serviceName must be a non-empty string`);
  }
}
