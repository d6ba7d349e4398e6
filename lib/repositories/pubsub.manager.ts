import { Injectable, Logger } from '@nestjs/common';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import {
  BulkPublishEntry,
  BulkPublishOptions,
  BulkPublishResult,
  DaprResult,
  PublishOptions,
} from '../dapr/dapr.interfaces';

/**
 * Publishes messages through the Dapr sidecar. Never throws: a failure (sidecar down, open breaker, unknown pub/sub) is returned as
 * `{ ok: false, error, code, status? }` so the caller can record it and republish later — and tell
 * an open breaker (`ERR_CIRCUIT_OPEN`) or an outage from a refused request (4xx `status`).
 */
@Injectable()
export class PubsubManager {
  private readonly logger = new Logger(PubsubManager.name);

  constructor(private readonly dapr: DaprClientHelper) {}

  /** Publishes `message` to `topic` of the pub/sub component `pubsub`. */
  async publishMessage(
    pubsub: string,
    topic: string,
    message: unknown,
    options?: PublishOptions,
  ): Promise<DaprResult<void>> {
    try {
      return await this.dapr.detailed.publishEvent(pubsub, topic, message, options);
    } catch (error) {
      const text = `publish to ${String(pubsub)}/${String(topic)} failed: ${error instanceof Error ? error.name : typeof error}`;
      this.logger.error(text);
      return { ok: false, error: text, code: 'ERR_INTERNAL' };
    }
  }

  /**
   * Publishes many messages in one call to the sidecar; the result lists the entries that failed,
   * one by one (`BulkPublishResult`), to keep for a republish.
   */
  async publishMessages<T = unknown>(
    pubsub: string,
    topic: string,
    entries: BulkPublishEntry<T>[],
    options?: BulkPublishOptions,
  ): Promise<BulkPublishResult<T>> {
    try {
      return await this.dapr.detailed.publishBulk(pubsub, topic, entries, options);
    } catch (error) {
      const text = `bulk publish to ${String(pubsub)}/${String(topic)} failed: ${error instanceof Error ? error.name : typeof error}`;
      this.logger.error(text);
      const failed = (Array.isArray(entries) ? entries : []).map((entry, i) => ({
        entryId: entry?.entryId ?? String(i),
        entry,
        error: text,
      }));
      return { ok: false, published: [], failed, error: text, code: 'ERR_INTERNAL' };
    }
  }
}
