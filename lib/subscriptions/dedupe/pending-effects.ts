import { checkKey, checkValue } from '../../dapr/dapr-requests';
import { StateTransactionOperation } from '../../dapr/dapr.interfaces';
import { EventTransaction } from '../dapr-event.interface';

/** The prefix of the dedupe records' keys: a handler's writes may not touch them. */
export const DEDUPE_KEY_PREFIX = 'kugel-dedupe|';

/**
 * `event.transaction` of a transactional handler: collects its writes (checked as they are made,
 * so bad input throws in the handler, where it belongs) for the one transaction that commits them
 * with the event's done mark.
 */
export class PendingEffects implements EventTransaction {
  private readonly ops: StateTransactionOperation[] = [];

  save(key: string, value: unknown, options: { etag?: string; metadata?: Record<string, string> } = {}): void {
    this.check(key);
    checkValue(value, `event.transaction.save value of "${key}"`);
    this.ops.push({ operation: 'upsert', request: { key, value, ...this.conditions(options) } });
  }

  delete(key: string, options: { etag?: string } = {}): void {
    this.check(key);
    this.ops.push({ operation: 'delete', request: { key, ...this.conditions(options) } });
  }

  get size(): number {
    return this.ops.length;
  }

  /** The writes in the order they were made. */
  get operations(): StateTransactionOperation[] {
    return [...this.ops];
  }

  private check(key: string): void {
    checkKey(key);
    if (key.startsWith(DEDUPE_KEY_PREFIX)) {
      throw new TypeError(`event.transaction: key "${key}" is a dedupe record's; the handler may not write it`);
    }
  }

  private conditions(o: { etag?: string; metadata?: Record<string, string> }) {
    const out: { etag?: string; metadata?: Record<string, string> } = {};
    if (o.etag !== undefined) {
      if (typeof o.etag !== 'string' || o.etag.length === 0) {
        throw new TypeError('event.transaction: etag must be a non-empty string when given');
      }
      out.etag = o.etag;
    }
    if ('metadata' in o && o.metadata !== undefined) out.metadata = { ...o.metadata };
    return out;
  }
}
