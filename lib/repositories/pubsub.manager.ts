import { Injectable, Logger } from '@nestjs/common';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { PublishOptions } from '../dapr/dapr.interfaces';

/** Outcome of `PubsubManager.publishMessage`. */
export type PublishResult = { ok: true } | { ok: false; error: string };

/**
 * Publishes messages through the Dapr sidecar (the original's `publish_message_async`). Never
 * throws: a failure (sidecar down, open breaker, unknown pub/sub) is returned as
 * `{ ok: false, error }` so the caller can record it and republish later.
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
  ): Promise<PublishResult> {
    try {
      const result = await this.dapr.publishEventResult(pubsub, topic, message, options);
      return result.ok ? { ok: true } : { ok: false, error: result.error };
    } catch (error) {
      const text = `publish to ${String(pubsub)}/${String(topic)} failed: ${error instanceof Error ? error.name : typeof error}`;
      this.logger.error(text);
      return { ok: false, error: text };
    }
  }
}
