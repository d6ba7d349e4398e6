import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner } from '@nestjs/core';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { KUGEL_COMMS_RESOLVED_OPTIONS, KUGEL_COMMS_SENDER } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { KugelCommsEvents } from '../observability/comms-events';
import { TransportSender } from '../transport/transport-sender';
import { DaprDedupeStore } from './dedupe/dapr-dedupe.store';
import { IdempotentConsumer } from './dedupe/idempotent-consumer';
import { DeliveriesInFlight } from './deliveries-in-flight';
import { EventDispatcher } from './event-dispatcher';
import { serveOnExpress } from './http/express-routes';
import { serveOnFastify } from './http/fastify-routes';
import { SubscriptionServer } from './http/subscription-server';
import { groupByTopic, SubscriptionHandler } from './subscription-definition';
import { DaprSubscriptionJson } from './subscription-list';
import { SubscriptionMetrics } from './subscription-metrics.service';
import { exploreSubscriptions } from './subscription.explorer';

/** HTTP servers that already serve the routes (one app may import the module more than once). */
const served = new WeakSet<object>();

/**
 * Finds the `@DaprSubscribe` handlers when the module initialises (Nest's discovery) and serves
 * their routes on the app's own HTTP adapter, Express or Fastify: no second server, no second
 * port. Routes are added in `onModuleInit`, after Nest's own routes and before its not-found
 * handler, so they work with `NestFactory.create` and with testing modules alike. An app without
 * handlers gets no routes at all (a hand-written `/dapr/subscribe` keeps working).
 *
 * On shutdown (`beforeApplicationShutdown`, before Nest closes the HTTP server, which waits for
 * every request in flight) deliveries get `subscriptions.shutdownTimeoutMs` to be answered; what
 * still runs then is answered `RETRY`.
 */
@Injectable()
export class SubscriptionsService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(SubscriptionsService.name);
  private readonly inFlight = new DeliveriesInFlight();
  private handlers: SubscriptionHandler[] = [];
  private server?: SubscriptionServer;
  private explored = false;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly events: KugelCommsEvents,
    private readonly dapr: DaprClientHelper,
    private readonly metrics: SubscriptionMetrics,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(KUGEL_COMMS_SENDER) private readonly sender?: TransportSender,
  ) {}

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
    const consumer = new IdempotentConsumer(new DaprDedupeStore(this.dapr), new Logger(IdempotentConsumer.name));
    const dispatcher = new EventDispatcher(this.events, consumer, new Logger(EventDispatcher.name), {
      cut: this.inFlight.cut,
      graceMs: o.shutdownTimeoutMs,
    });
    this.server = new SubscriptionServer(topics, o, dispatcher, this.inFlight);
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
    if (served.has(instance)) return;
    served.add(instance);
    const type = adapter.getType();
    if (type === 'fastify') await serveOnFastify(instance as Parameters<typeof serveOnFastify>[0], this.server);
    else if (type === 'express') serveOnExpress(instance as Parameters<typeof serveOnExpress>[0], this.server);
    else {
      throw new Error(`@DaprSubscribe needs the Express or Fastify platform; the app runs on "${type}"`);
    }
    const list = topics
      .flatMap((g) => g.map((h) => `${h.pubsub}/${h.topic}${h.match ? ` [${h.match}]` : ''} → ${h.name}`))
      .join(', ');
    this.logger.log(
      `serving GET /dapr/subscribe and ${this.server.prefixPath}/… on ${type}${o.appApiToken ? ' (app token required)' : ''}: ${list}`,
    );
  }

  /** Gives the deliveries in flight `subscriptions.shutdownTimeoutMs`, then answers the rest `RETRY`. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.inFlight.drain(this.options.subscriptions.shutdownTimeoutMs, this.logger);
  }

  /** DESIGN §10: a RETRY is only as good as daprd's retry; say which subscriptions have no net. */
  private warnAtBoot(topics: SubscriptionHandler[][]): void {
    // A dead-letter topic's own subscription is the end of the line: it is not listed.
    const deadLetterTopics = new Set(topics.map((g) => `${g[0].pubsub}/${g[0].deadLetterTopic}`));
    const noDlq = topics
      .filter((g) => !g[0].deadLetterTopic && !deadLetterTopics.has(`${g[0].pubsub}/${g[0].topic}`))
      .map((g) => `${g[0].pubsub}/${g[0].topic}`);
    if (noDlq.length > 0) {
      this.logger.warn(
        `no deadLetterTopic on ${noDlq.join(', ')}: a RETRY or DROP answer is only as good as daprd's own retry ` +
          '(Redis Streams acknowledges a failed delivery, the in-memory pub/sub never redelivers); ' +
          'set deadLetterTopic and give the pub/sub component an inbound resiliency policy (README, "Subscriptions")',
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
    const bulk = topics.filter((g) => g[0].bulk).map((g) => `${g[0].pubsub}/${g[0].topic}`);
    if (bulk.length > 0 && this.adapterHost?.httpAdapter?.getType() === 'express') {
      this.logger.log(
        `bulk subscriptions (${bulk.join(', ')}) receive application/json bodies, which the app's JSON body parser ` +
          "reads first: its size limit applies (Nest's default is 100 kB; raise it with app.useBodyParser('json', { limit }))",
      );
    }
  }
}
