/** What one pass did. */
export interface RepublishPass {
  republisher: string;
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
  /** Events `findUndelivered` returned. */
  found: number;
  published: number;
  failed: number;
  /** Not attempted: the pub/sub's breaker was open, or the republisher was stopping. */
  skipped: number;
  /** Why the pass could not run (the source failed, its lease could not be had), when it could not. */
  error?: string;
  /** The replica that held the pass lease: this replica's pass was skipped (not a failure). */
  leaseHeldBy?: string;
}

/** A republisher's state, for health and metrics. */
export interface RepublisherStatus {
  name: string;
  /** Whether a pass is running now. */
  running: boolean;
  /** Undelivered events as last known (the source's `stats()`, else the last pass's `found`). */
  undelivered?: number;
  /** Age of the oldest undelivered event, in ms, as of now; `null` when there is none or it is not known yet. */
  oldestUndeliveredAgeMs: number | null;
  /** The age above which health reports `down`. */
  maxUndeliveredAgeMs: number;
  lastPass?: RepublishPass;
  /** Epoch ms of the next scheduled pass. */
  nextPassAt?: number;
}
