import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventSource } from '../common/event';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { DaprDedupeStore } from '../claims/dapr-dedupe.store';
import { EventRepublisher } from './event-republisher';
import { PassLease } from './pass-lease';
import { RepublishPass } from './republisher-status.interface';
import { RepublisherOptions, resolveRepublisherOptions } from './republisher-options';

/**
 * Every republisher of the application: the ones `KugelCommsModule.forRepublisher()` registers,
 * and any the app registers itself with `register()`. Republishers start when the application has
 * bootstrapped (or at once when registered later) and stop when it shuts down (`onModuleDestroy`,
 * the first shutdown hook, so that no pass runs while the app's own providers close).
 *
 * ```ts
 * constructor(private readonly republishers: EventRepublishers, private readonly outbox: TranlogOutbox) {}
 * onModuleInit() { this.republishers.register('tranlog', { source: this.outbox, intervalMs: 30_000 }); }
 * ```
 */
@Injectable()
export class EventRepublishers implements OnApplicationBootstrap, OnModuleDestroy {
  /** Every pass of every republisher (metrics subscribe here). */
  readonly onPass = new EventSource<RepublishPass>();
  /** A republisher was registered. */
  readonly onRegister = new EventSource<EventRepublisher>();
  private readonly logger = new Logger(EventRepublishers.name);
  private readonly byName = new Map<string, EventRepublisher>();
  private bootstrapped = false;
  private stopped = false;

  constructor(private readonly dapr: DaprClientHelper) {}

  /**
   * Creates the republisher `name` over `options.source`. Throws `InvalidOptionsError` for a bad
   * option or a name already taken. Started at once when the application is running already.
   */
  register(name: string, options: RepublisherOptions): EventRepublisher {
    const resolved = resolveRepublisherOptions(name, options);
    if (this.byName.has(name)) throw new Error(`a republisher named "${name}" is registered already`);
    if (this.stopped) throw new Error(`republisher "${name}": the application is shutting down`);
    if (resolved.lease && resolved.lease.leaseMs <= 3 * this.dapr.sidecarTimeoutMs) {
      throw new InvalidOptionsError(
        `republishers.${name}.lease.leaseSec`,
        resolved.lease.leaseMs / 1000,
        `must outlast three sidecar writes (3 × dapr.timeoutMs = ${3 * this.dapr.sidecarTimeoutMs} ms)`,
      );
    }
    const republisher = new EventRepublisher(resolved, {
      publish: (pubsub, topic, data, publishOptions) =>
        this.dapr.detailed.publishEvent(pubsub, topic, data, publishOptions),
      breakerFor: (pubsub) => this.dapr.breakerFor('pubsub', pubsub),
      logger: this.logger,
      lease: resolved.lease
        ? new PassLease(
            name,
            { store: resolved.lease.store, leaseMs: resolved.lease.leaseMs, writeBudgetMs: this.dapr.sidecarTimeoutMs },
            new DaprDedupeStore(this.dapr),
            this.logger,
          )
        : undefined,
    });
    republisher.onPass.on((pass) => this.onPass.emit(pass));
    this.byName.set(name, republisher);
    this.onRegister.emit(republisher);
    if (this.bootstrapped) republisher.start();
    return republisher;
  }

  /** The republisher `name`, or `undefined`. */
  get(name: string): EventRepublisher | undefined {
    return this.byName.get(name);
  }

  /** Every republisher, in registration order. */
  all(): EventRepublisher[] {
    return [...this.byName.values()];
  }

  onApplicationBootstrap(): void {
    this.bootstrapped = true;
    for (const republisher of this.byName.values()) republisher.start();
  }

  /** Stops every republisher; each waits for its pass in flight (bounded by its `shutdownTimeoutMs`). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.all().map((r) => r.stop()));
  }
}
