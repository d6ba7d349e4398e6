import { InvalidOptionsError } from '../errors/invalid-options.error';
import { SubscriptionOptions } from '../interfaces/subscription-options.interface';
import { nonNegativeMs, object, positiveInt } from '../options/validators';

export interface ResolvedSubscriptionOptions {
  /** Without leading or trailing `/`. */
  routePrefix: string;
  appApiToken?: string;
  handlerTimeoutMs: number;
  maxBodyBytes: number;
}

/** Defaults of `subscriptions` and of `@DaprSubscribe(..., { dedupe })`. */
export const SUBSCRIPTION_DEFAULTS = {
  routePrefix: 'dapr/events',
  handlerTimeoutMs: 30_000,
  maxBodyBytes: 4 * 1024 * 1024,
  dedupe: { store: 'statestore', ttlSec: 86_400, leaseSec: 60 },
  bulk: { maxMessages: 100, maxAwaitMs: 1_000 },
} as const;

const PREFIX_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Merges `subscriptions` over the defaults and validates it (`InvalidOptionsError` naming the option). */
export function resolveSubscriptionOptions(
  o: SubscriptionOptions | undefined,
  env: NodeJS.ProcessEnv,
): ResolvedSubscriptionOptions {
  if (o === undefined) o = {};
  object('subscriptions', o);
  const d = SUBSCRIPTION_DEFAULTS;

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

  const appApiToken = o.appApiToken ?? (env.APP_API_TOKEN || undefined);
  if (appApiToken !== undefined && (typeof appApiToken !== 'string' || !/^[\x21-\x7e]+$/.test(appApiToken))) {
    throw new InvalidOptionsError(
      'subscriptions.appApiToken',
      appApiToken,
      'must be a non-empty string of visible ASCII characters (it travels as an HTTP header)',
    );
  }

  const handlerTimeoutMs = nonNegativeMs('subscriptions.handlerTimeoutMs', o.handlerTimeoutMs ?? d.handlerTimeoutMs);
  const maxBodyBytes = positiveInt('subscriptions.maxBodyBytes', o.maxBodyBytes ?? d.maxBodyBytes);

  return { routePrefix, appApiToken, handlerTimeoutMs, maxBodyBytes };
}
