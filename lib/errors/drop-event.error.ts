const DROP_EVENT_MARKER = Symbol.for('kugel-comms.DropEvent');

/**
 * Thrown by a `@DaprSubscribe` handler to drop the event: daprd is answered `DROP`, so the event
 * is never retried and goes to the subscription's `deadLetterTopic` when one is set. Any other
 * exception answers `RETRY`.
 *
 * ```ts
 * if (!order.tenantId) throw new DropEvent('order without tenantId');
 * ```
 */
export class DropEvent extends Error {
  readonly [DROP_EVENT_MARKER] = true;
  override readonly name = 'DropEvent';

  constructor(reason = 'dropped by the handler', options?: { cause?: unknown }) {
    super(reason, options);
  }
}

export function isDropEvent(error: unknown): error is DropEvent {
  return typeof error === 'object' && error !== null && DROP_EVENT_MARKER in error;
}
