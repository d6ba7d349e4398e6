import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner } from '@nestjs/core';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { KUGEL_COMMS_RESOLVED_OPTIONS, KUGEL_COMMS_SENDER } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { TransportSender } from '../transport/transport-sender';
import { DaprDedupeStore } from '../claims/dapr-dedupe.store';
import { IdempotentConsumer } from './dedupe/idempotent-consumer';
import { DeliveriesInFlight } from './deliveries-in-flight';
import { DeliveryLimit } from './delivery-limit';
import { EventDispatcher } from './event-dispatcher';
import { ExpressLike, mountDeliveries, serveOnExpress } from './http/express-routes';
import { serveOnFastify } from './http/fastify-routes';
import { SubscriptionServer } from './http/subscription-server';
import { groupByTopic, SubscriptionHandler } from './subscription-definition';
import { DaprSubscriptionJson } from './subscription-list';
import { SubscriptionMetrics } from './subscription-metrics.service';
import { exploreSubscriptions } from './subscription.explorer';
import { SubscriptionEvents } from './subscription-events';

/** HTTP servers that already serve the routes (one app may import the module more than once). */
const served = new WeakSet<object>();

/**
 * Finds the `@DaprSubscribe` handlers when the module initialises (Nest's discovery) and serves
 * their routes on the app's own HTTP adapter, Express or Fastify: no second server, no second
 * port. `GET /dapr/subscribe` and the 404 for unknown event paths are added in `onModuleInit`,
 * after Nest's own routes and before its not-found handler. An app without handlers gets no
 * routes at all (a hand-written `/dapr/subscribe` keeps working).
 *
 * Deliveries on Express must be read before the app's body parsers, or the JSON parser's limit
 * (Nest's default: 100 kB) refuses bulk batches (`application/json`) of ordinary events, every
 * time. With `NestFactory.create` the HTTP adapter exists while providers are built, and Nest adds
 * its parsers later, in `app.init()` (before `onModuleInit`): the delivery middleware is mounted
 * here, in the constructor, ahead of them; it serves nothing until the handlers are found.
 * A testing module's `createNestApplication()` hands the adapter over only after the providers
 * are built: the deliveries are then mounted in `onModuleInit`, behind the parsers, whose limit
 * applies (a body they refuse is answered RETRY, never DROP; docs/subscriptions.md, "Body size and
 * content types").
 *
 * On shutdown (`beforeApplicationShutdown`, before Nest closes the HTTP server, which waits for
 * every request in flight) deliveries get `subscriptions.shutdownTimeoutMs` to be answered; what
 * still runs then is answered `RETRY`, and the dedupe claims of handlers still running are left to
 * expire (`onApplicationShutdown`).
 */
@Injectable()
export class SubscriptionsService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SubscriptionsService.name);
  private readonly inFlight = new DeliveriesInFlight();
  private handlers: SubscriptionHandler[] = [];
  private server?: SubscriptionServer;
  private consumer?: IdempotentConsumer;
  private explored = false;
  /** Whether the deliveries were mounted on Express at construction, ahead of the app's body parsers. */
  private readonly aheadOfParsers: boolean;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly events: SubscriptionEvents,
    private readonly dapr: DaprClientHelper,
    private readonly metrics: SubscriptionMetrics,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(KUGEL_COMMS_SENDER) private readonly sender?: TransportSender,
  ) {
    this.aheadOfParsers = this.mountDeliveriesEarly();
  }

  /** With `NestFactory.create` on Express: the delivery middleware, before Nest adds its parsers. */
  private mountDeliveriesEarly(): boolean {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter?.getType() !== 'express') return false;
    const instance = adapter.getInstance() as ExpressLike;
    if (served.has(instance)) return false;
    served.add(instance);
    mountDeliveries(instance, `/${this.options.subscriptions.routePrefix}`, () => this.server);
    return true;
  }

  /** What `GET /dapr/subscribe` answers (empty when the app has no handlers). */
  get subscriptions(): DaprSubscriptionJson[] {
    return this.server?.subscriptions ?? [];
  }

  /**
   * The platform-neutral half of the routes (`undefined` when the app has no handlers): what
   * `kugel-comms/testing` hands its in-memory deliveries to, so they take the same path as daprd's.
   * Throws before the module initialised (the handlers are found then).
   * @internal
   */
  get deliveryServer(): SubscriptionServer | undefined {
    if (!this.explored) {
      throw new Error(
        '@DaprSubscribe handlers are found when the module initialises: call `await moduleRef.init()` (or `app.init()`) first',
      );
    }
    return this.server;
  }

  async onModuleInit(): Promise<void> {
    const o = this.options.subscriptions;
    this.handlers = exploreSubscriptions(this.discovery, this.scanner, o);
    this.explored = true;
    if (this.handlers.length === 0) return;
    const topics = groupByTopic(this.handlers);
    this.metrics.start();
    const consumer = new IdempotentConsumer(
      new DaprDedupeStore(this.dapr, new Logger(IdempotentConsumer.name)),
      new Logger(IdempotentConsumer.name),
      {
        writeBudgetMs: this.options.dapr.timeoutMs,
        onSettled: (c) => {
          if (!this.events.claimSettled.hasListeners) return;
          const { handler: h, event, key, outcome, calls, renewals } = c;
          this.events.claimSettled.emit({
            pubsub: h.pubsub,
            topic: h.topic,
            handler: h.name,
            id: event.id,
            key,
            outcome,
            calls,
            renewals,
          });
        },
      },
    );
    this.consumer = consumer;
    const limit = new DeliveryLimit(() => this.dapr.componentTypes(), new Logger(EventDispatcher.name));
    const dispatcher = new EventDispatcher(
      this.events,
      consumer,
      new Logger(EventDispatcher.name),
      { cut: this.inFlight.cut, graceMs: o.shutdownTimeoutMs },
      limit,
    );
    this.server = new SubscriptionServer(topics, o, dispatcher, new Logger(SubscriptionServer.name), this.inFlight);
    this.warnAtBoot(topics);

    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter && this.sender) {
      this.logger.log(
        `${this.handlers.length} @DaprSubscribe handler(s) found; events are delivered ${this.sender.label}`,
      );
      return;
    }
    if (!adapter) {
      this.logger.warn(
        `${this.handlers.length} @DaprSubscribe handler(s) found but the app has no HTTP server: no events will be delivered`,
      );
      return;
    }
    const instance = adapter.getInstance() as object;
    const type = adapter.getType();
    if (type === 'express' && this.aheadOfParsers) serveOnExpress(instance as ExpressLike, this.server);
    else {
      if (served.has(instance)) return;
      served.add(instance);
      if (type === 'fastify') await serveOnFastify(instance as Parameters<typeof serveOnFastify>[0], this.server);
      else if (type === 'express') {
        mountDeliveries(instance as ExpressLike, this.server.prefixPath, () => this.server);
        serveOnExpress(instance as ExpressLike, this.server);
        this.sayBehindParsers(topics);
      } else {
        throw new Error(`@DaprSubscribe needs the Express or Fastify platform; the app runs on "${type}"`);
      }
    }
    const list = topics
      .flatMap((g) => g.map((h) => `${h.pubsub}/${h.topic}${h.match ? ` [${h.match}]` : ''} → ${h.name}`))
      .join(', ');
    const reads = type === 'express' && !this.aheadOfParsers ? "behind the app's body parsers" : 'itself';
    this.logger.log(
      `serving GET /dapr/subscribe and ${this.server.prefixPath}/… on ${type}${o.appApiToken ? ' (app token required)' : ''}, ` +
        `each delivery read ${reads} up to ${o.maxBodyBytes} bytes: ${list}`,
    );
  }

  /**
   * The routes came after the app's body parsers (the adapter arrived after this provider was
   * built): bulk batches are `application/json`, which the JSON parser reads first, so its limit
   * applies to them. Say so, with what to do; a batch it refuses is answered 500 and retried.
   */
  private sayBehindParsers(topics: SubscriptionHandler[][]): void {
    const bulk = topics.filter((g) => g[0].bulk).map((g) => `${g[0].pubsub}/${g[0].topic}`);
    if (bulk.length === 0) return;
    this.logger.log(
      `bulk subscriptions (${bulk.join(', ')}) receive application/json bodies, and the HTTP adapter came after ` +
        "this module was built (a testing module's createNestApplication()), so the routes sit behind the app's " +
        "JSON body parser: its size limit applies to them (Nest's default is 100 kB; a batch over it is answered " +
        "500 and retried, never dropped). Raise it with app.useBodyParser('json', { limit: '4mb' }), or create " +
        'the app with NestFactory.create, where deliveries are read ahead of the parsers',
    );
  }

  /** Gives the deliveries in flight `subscriptions.shutdownTimeoutMs`, then answers the rest `RETRY`. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.inFlight.drain(this.options.subscriptions.shutdownTimeoutMs, this.logger);
  }

  /**
   * Stops renewing the dedupe claims of handlers still running: their leases run out on their own,
   * and a redelivery to another replica runs them then.
   */
  onApplicationShutdown(): void {
    const held = this.consumer?.heldClaims ?? 0;
    this.consumer?.abandonAll();
    if (held > 0) {
      this.logger.warn(`${held} dedupe claim(s) of handlers still running are left to expire after their lease`);
    }
  }

  /**
   * A dedupe claim is renewed, and its done mark written, through the state store's breaker: once
   * it opens (a sidecar restart is enough), nothing goes through until `resetTimeoutMs` has passed.
   * A lease shorter than that lapses meanwhile, and other replicas run those events again.
   */
  private warnShortLeases(handlers: SubscriptionHandler[]): void {
    const reset = this.options.dapr.breaker.resetTimeoutMs;
    const short = handlers.filter((h) => h.dedupe && h.dedupe.leaseSec * 1000 < reset);
    if (short.length === 0) return;
    this.logger.warn(
      `dedupe lease shorter than the state store breaker's reset (dapr.breaker.resetTimeoutMs ${reset} ms) on ` +
        `${short.map((h) => `${h.name} (${h.dedupe!.leaseSec} s)`).join(', ')}: after the breaker opens (a sidecar ` +
        "restart is enough), this replica's claims cannot be renewed nor its done marks written until it half-opens, " +
        'and other replicas run those events again; lower the reset or lengthen the lease',
    );
  }

  /** A RETRY is only as good as daprd's retry: say which subscriptions have no net. */
  private warnAtBoot(topics: SubscriptionHandler[][]): void {
    this.warnShortLeases(topics.flat());
    // A dead-letter topic's own subscription is the end of the line: it is not listed.
    const deadLetterTopics = new Set(topics.map((g) => `${g[0].pubsub}/${g[0].deadLetterTopic}`));
    const noDlq = topics
      .filter((g) => !g[0].deadLetterTopic && !deadLetterTopics.has(`${g[0].pubsub}/${g[0].topic}`))
      .map((g) => `${g[0].pubsub}/${g[0].topic}`);
    if (noDlq.length > 0) {
      this.logger.warn(
        `no deadLetterTopic on ${noDlq.join(', ')}: a RETRY or DROP answer is only as good as daprd's own retry ` +
          '(Redis Streams acknowledges a failed delivery, the in-memory pub/sub never redelivers); ' +
          'set deadLetterTopic and give the pub/sub component an inbound resiliency policy (docs/subscriptions.md, "A RETRY is only as good as daprd\'s retry")',
      );
    }
    for (const g of topics) {
      if (g.every((h) => h.match !== undefined)) {
        this.logger.log(
          `${g[0].pubsub}/${g[0].topic}: no handler without "match"; daprd drops events that match no rule` +
            (g[0].deadLetterTopic ? ` (to ${g[0].deadLetterTopic})` : ''),
        );
      }
    }
  }
}
