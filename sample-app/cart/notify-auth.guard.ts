import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as jwt from 'jsonwebtoken';
import { timingSafeEqual } from 'node:crypto';

/**
 * Who may report a delivery status (as the Kugelpos cart's `verify_pubsub_notification_auth`): a service
 * JWT signed with the shared `SECRET_KEY` whose claims say `is_service_account: true`, or the
 * notification API key (`PUBSUB_NOTIFY_API_KEY`) in `X-API-KEY`. Anything else: 401 with
 * `WWW-Authenticate: Bearer, API-Key`. Neither credential is ever logged.
 */
@Injectable()
export class NotifyAuthGuard implements CanActivate {
  private readonly secret?: string;
  private readonly apiKey?: string;

  constructor(config: ConfigService) {
    this.secret = config.get<string>('SECRET_KEY') || undefined;
    this.apiKey = config.get<string>('PUBSUB_NOTIFY_API_KEY') || undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && this.secret) {
      try {
        const claims = jwt.verify(bearer, this.secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
        if (claims.is_service_account === true) return true;
      } catch {
        // falls through to 401
      }
    }
    const key = req.headers['x-api-key'];
    if (!bearer && key && this.apiKey && sameText(key, this.apiKey)) return true;
    const res = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): unknown }>();
    res.setHeader('WWW-Authenticate', 'Bearer, API-Key');
    throw new UnauthorizedException('a service token or the notification API key is required');
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
