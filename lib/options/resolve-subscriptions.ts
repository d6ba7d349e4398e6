import { InvalidOptionsError } from '../errors/invalid-options.error';
import { SubscriptionOptions } from '../interfaces/subscription-options.interface';
import { DEFAULTS } from './defaults';
import { ResolvedSubscriptionOptions } from './resolved-options.interface';
import { envValue, nonNegativeMs, object, positiveInt } from './validators';

const PREFIX_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Merges `subscriptions` over the defaults and validates it (`InvalidOptionsError` naming the option). */
export function resolveSubscriptionOptions(
  o: SubscriptionOptions,
  env: NodeJS.ProcessEnv,
  sidecarTimeoutMs: number,
): ResolvedSubscriptionOptions {
  object('subscriptions', o);
  const d = DEFAULTS.subscriptions;

  const prefix = o.routePrefix ?? d.routePrefix;
  if (typeof prefix !== 'string') {
    throw new InvalidOptionsError('subscriptions.routePrefix', prefix, 'must be a path string');
  }
  const routePrefix = prefix.replace(/^\/+|\/+$/g, '');
  const segments = routePrefix.split('/');
  if (
    routePrefix.length === 0 ||
    segments.some((s) => !PREFIX_SEGMENT.test(s) || s === '.' || s === '..') ||
    routePrefix === 'dapr/subscribe' ||
    routePrefix === 'dapr/config'
  ) {
    throw new InvalidOptionsError(
      'subscriptions.routePrefix',
      prefix,
      'must be a non-empty path of segments made of letters, digits, ".", "_", "~" or "-" (not dapr/subscribe)',
    );
  }

  const appApiToken = o.appApiToken ?? envValue(env, 'APP_API_TOKEN');
  if (appApiToken !== undefined && (typeof appApiToken !== 'string' || !/^[\x21-\x7e]+$/.test(appApiToken))) {
    throw new InvalidOptionsError(
      'subscriptions.appApiToken',
      appApiToken,
      'must be a non-empty string of visible ASCII characters (it travels as an HTTP header)',
    );
  }

  const handlerTimeoutMs = nonNegativeMs('subscriptions.handlerTimeoutMs', o.handlerTimeoutMs ?? d.handlerTimeoutMs);
  const maxBodyBytes = positiveInt('subscriptions.maxBodyBytes', o.maxBodyBytes ?? d.maxBodyBytes);
  const shutdownTimeoutMs = nonNegativeMs(
    'subscriptions.shutdownTimeoutMs',
    o.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
  );

  const closeIdleConnections = o.closeIdleConnections ?? d.closeIdleConnections;
  if (typeof closeIdleConnections !== 'boolean') {
    throw new InvalidOptionsError('subscriptions.closeIdleConnections', closeIdleConnections, 'must be true or false');
  }

  return {
    routePrefix,
    appApiToken,
    handlerTimeoutMs,
    maxBodyBytes,
    shutdownTimeoutMs,
    sidecarTimeoutMs,
    closeIdleConnections,
  };
}
