import { PublishOptions } from '../dapr/dapr.interfaces';

/** An event the app recorded in its own database and that no consumer has confirmed yet. */
export interface UndeliveredEvent {
  /**
   * The event's stable id (the Kugelpos messages' `event_id`): republished as the CloudEvent `id`, so a
   * consumer that de-duplicates by it sees the same event however often it is republished.
   */
  eventId: string;
  pubsub: string;
  topic: string;
  /** The exact body to publish: the stored payload, unchanged. */
  data: unknown;
  /** When the event was first recorded: its undelivered age is counted from here. */
  createdAt: Date | number;
  /** Publish options (content type, metadata); `eventId` is always the event's own. */
  options?: Omit<PublishOptions, 'eventId'>;
}

/** What `findUndelivered` is asked for. */
export interface UndeliveredQuery {
  /** At most this many events, oldest first. */
  limit: number;
  /**
   * Only events whose last publish attempt (or, before any, their creation) is older than this:
   * a younger one may still be on its way, or its consumers' callbacks may still be coming.
   */
  olderThan: Date;
}

/** What the app knows of its undelivered events as a whole (for health and metrics). */
export interface UndeliveredStats {
  /** Events not yet delivered, whatever their age. */
  undelivered: number;
  /** `createdAt` of the oldest of them; `null`/absent when there is none. */
  oldestCreatedAt?: Date | number | null;
}

/**
 * Where a republisher finds what must still be published: the app's own database (its
 * delivery-status records), implemented by the app. Every method may reject; the republisher
 * catches, logs and reports it (a pass whose `findUndelivered` failed is a failed pass).
 */
export interface RepublishSource {
  /** Events to (re)publish now, oldest first (see `UndeliveredQuery`). */
  findUndelivered(query: UndeliveredQuery): Promise<UndeliveredEvent[]>;
  /** The sidecar accepted the event (it is published, not yet delivered). */
  markPublished(event: UndeliveredEvent): Promise<void>;
  /** The publish failed; `error` says why (no secrets). */
  markFailed(event: UndeliveredEvent, error: string): Promise<void>;
  /**
   * Optional: the count and the oldest creation time of every undelivered event, for health and
   * metrics. Without it the republisher reports what its last pass found (a lower bound).
   */
  stats?(): Promise<UndeliveredStats>;
}
