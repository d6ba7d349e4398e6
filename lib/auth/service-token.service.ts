import { Inject, Injectable, Logger } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { apiKeyHeaders, bearerHeaders } from './auth-headers';

/**
 * Claims of a service token: the original's (`sub`, `tenant_id`, `service`, `is_service_account`,
 * `is_superuser`), with `exp` and `iat`, and `iss` when `auth.serviceToken.issuer` is set.
 */
export interface ServiceTokenClaims {
  sub: string;
  tenant_id: string;
  service: string;
  is_service_account: true;
  is_superuser: false;
}

/**
 * Service-to-service credentials. `createServiceToken()` mints a short-lived JWT with the
 * configured, pinned algorithm (jsonwebtoken does the signing); `serviceAuthHeaders()` is the
 * original's mixed pattern: the token as a bearer, or — when it cannot be made — the API key.
 *
 * A token carries no `aud` claim unless its call asks for one: the Kugelpos services verify
 * tokens without an expected audience, and that check refuses any token that has one ("Invalid
 * audience"), so a token meant for them must not have it.
 */
@Injectable()
export class ServiceTokenService {
  private readonly logger = new Logger(ServiceTokenService.name);

  constructor(@Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions) {}

  /**
   * A JWT `{ sub: "service:<name>", tenant_id, service, is_service_account: true, is_superuser: false }`
   * valid for `auth.serviceToken.expiresInSec` (300 s by default, 3600 at most). Throws when no
   * service token is configured.
   *
   * @param token.audience An `aud` claim, only for a receiver that checks it (never for the
   *   Kugelpos services, which refuse the token then).
   */
  createServiceToken(tenantId: string, serviceName: string, token: { audience?: string } = {}): string {
    const config = this.options.auth.serviceToken;
    if (!config) throw new Error('no service token configured: set KugelCommsModule option auth.serviceToken.secret');
    if (typeof tenantId !== 'string' || tenantId.length === 0)
      throw new Error('createServiceToken: tenantId must be a non-empty string');
    if (typeof serviceName !== 'string' || serviceName.length === 0)
      throw new Error('createServiceToken: serviceName must be a non-empty string');
    const audience = token?.audience;
    if (audience !== undefined && (typeof audience !== 'string' || audience.length === 0))
      throw new Error('createServiceToken: audience must be a non-empty string when given');
    const claims: ServiceTokenClaims = {
      sub: `service:${serviceName}`,
      tenant_id: tenantId,
      service: serviceName,
      is_service_account: true,
      is_superuser: false,
    };
    return jwt.sign(claims, config.secret, {
      algorithm: config.algorithm,
      expiresIn: config.expiresInSec,
      ...(config.issuer ? { issuer: config.issuer } : {}),
      ...(audience ? { audience } : {}),
    });
  }

  /**
   * Headers for a call made on behalf of a tenant: `Authorization: Bearer <service token>` and
   * `X-Tenant-ID`, or, when the token cannot be made, `X-API-KEY` from `auth.apiKey` (logged at
   * WARN, without any secret). Throws when neither is available. `token` as for `createServiceToken`.
   */
  serviceAuthHeaders(tenantId: string, serviceName: string, token: { audience?: string } = {}): Record<string, string> {
    try {
      return { ...bearerHeaders(this.createServiceToken(tenantId, serviceName, token)), 'X-Tenant-ID': tenantId };
    } catch (error) {
      const apiKey = this.options.auth.apiKey;
      if (!apiKey) {
        throw new Error(
          `service token for "${serviceName}" could not be made (${(error as Error).message}) and no auth.apiKey is configured`,
          { cause: error },
        );
      }
      this.logger.warn(
        `service token for "${serviceName}" could not be made (${(error as Error).message}); falling back to the API key`,
      );
      return { ...apiKeyHeaders(apiKey), 'X-Tenant-ID': tenantId };
    }
  }
}
