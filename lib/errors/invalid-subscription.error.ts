const INVALID_SUBSCRIPTION_MARKER = Symbol.for('kugel-comms.InvalidSubscriptionError');

/**
 * Thrown at boot when a `@DaprSubscribe` handler cannot be served: a bad argument, two handlers
 * claiming the same pubsub/topic/route, or handlers of one topic that disagree on a setting daprd
 * keeps per topic. The message names the handler(s) as `Class.method`.
 */
export class InvalidSubscriptionError extends Error {
  readonly [INVALID_SUBSCRIPTION_MARKER] = true;
  override readonly name = 'InvalidSubscriptionError';

  constructor(
    /** The handler(s) at fault, as `Class.method`. */
    readonly handlers: string[],
    message: string,
  ) {
    super(message);
  }
}

export function isInvalidSubscriptionError(error: unknown): error is InvalidSubscriptionError {
  return typeof error === 'object' && error !== null && INVALID_SUBSCRIPTION_MARKER in error;
}
