import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { HeldClaim } from '../claims/held-claim';
import { ClaimRecord, DedupeStore } from '../claims/dedupe-store.interface';

/** Where and how long a republisher's pass lease is held (`RepublisherOptions.lease`). @internal */
export interface PassLeaseTerms {
  /** The Dapr state store that keeps the lease (shared by every replica of the service). */
  store: string;
  leaseMs: number;
  /** The sidecar's timeout: the longest one write can take (writes are sent once). */
  writeBudgetMs: number;
  now?: () => number;
}

/** The lease of one pass: held (end it with `release()`), held by another replica, or not to be had now. */
export type LeaseAttempt =
  { held: true; release: () => Promise<void>; abandon: () => void } | { held: false; by?: string; error?: string };

/**
 * One pass per republisher name at a time across every replica of a service: before a pass, a
 * replica takes the lease record `kugel-republish|<name>` in a state store the replicas share (the
 * same claim record, insert-if-absent, ETags, renewals and fences as the dedupe claims). A replica
 * that finds the lease held by another skips its pass; one that dies mid-pass stops renewing, and
 * once the lease is over another takes it over by the ETag it read, so exactly one does. A lease
 * lost while the pass runs stops the pass (no new publish starts: `onLost`). @internal
 */
export class PassLease {
  /** This replica, as written in the lease. */
  readonly owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly key: string;
  private readonly now: () => number;

  constructor(
    name: string,
    private readonly t: PassLeaseTerms,
    private readonly store: DedupeStore,
    private readonly logger: Logger,
  ) {
    this.key = `kugel-republish|${encodeURIComponent(name)}`;
    this.now = t.now ?? Date.now;
  }

  /** Takes the lease for one pass; `onLost` is called if it is lost or lapses before `release()`. */
  async take(onLost: (why: string) => void): Promise<LeaseAttempt> {
    const token = randomUUID();
    const claim: ClaimRecord = { state: 'claimed', owner: this.owner, token, until: this.now() + this.t.leaseMs };
    // The record outlives its lease by a minute: a lease that is over is taken over by its ETag (a
    // record expiring at the very moment would be in the store for a write and gone for a read).
    const ttlSec = Math.ceil(this.t.leaseMs / 1000) + 60;
    const inserted = await this.store.insert(this.t.store, this.key, claim, ttlSec);
    if (!inserted.ok) {
      if (inserted.reason === 'unavailable') return { held: false, error: inserted.error };
      const view = await this.store.read(this.t.store, this.key);
      if (!view.ok) return { held: false, error: view.error };
      const r = view.record;
      const ours = r?.state === 'claimed' && r.token === token;
      if (!ours) {
        if (r && r.state === 'claimed' && r.owner !== this.owner && r.until > this.now())
          return { held: false, by: r.owner };
        if (r === undefined || view.etag === undefined) {
          // Gone between the refused insert and the read (it expired): inserted again, once.
          const again = await this.store.insert(this.t.store, this.key, claim, ttlSec);
          if (!again.ok) return { held: false, error: `the lease could not be written (${again.error})` };
          return this.hold(claim, ttlSec, onLost);
        }
        // Over, or left behind by this replica (its release was lost): taken over by the ETag just read.
        const taken = await this.store.replace(this.t.store, this.key, view.etag, claim, ttlSec);
        if (!taken.ok) {
          if (taken.reason === 'conflict') return { held: false, by: 'another replica' };
          return { held: false, error: taken.error };
        }
      }
    }
    return this.hold(claim, ttlSec, onLost);
  }

  private hold(claim: ClaimRecord, ttlSec: number, onLost: (why: string) => void): LeaseAttempt {
    const token = claim.token;
    const held = new HeldClaim(
      {
        store: this.store,
        storeName: this.t.store,
        key: this.key,
        owner: this.owner,
        token,
        leaseMs: this.t.leaseMs,
        claimTtlSec: ttlSec,
        doneTtlSec: ttlSec,
        writeBudgetMs: this.t.writeBudgetMs,
        now: this.now,
        logger: this.logger,
        where: `republish pass lease ${this.key}`,
        onLost,
        onSettled: () => undefined,
      },
      claim.until,
      () => undefined,
    );
    return {
      held: true,
      release: async () => {
        await held.finish(false); // deleted by its ETag, only while still this pass's
      },
      // Stops renewing without a release: the lease runs out on its own (what a crash leaves).
      abandon: () => held.abandon(),
    };
  }
}
