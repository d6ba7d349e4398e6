/**
 * Public API of kugel-comms: what an application imports from `kugel-comms`. Everything not listed
 * here is internal, and the list is pinned by a test: a name added or removed is a decision, not a
 * side effect.
 *
 * What is left out on purpose:
 * - Types that are only a field, a parameter or a result of something listed here (the options of
 *   one area, an event's reason, a health indicator's details, a snapshot): reach them through
 *   what holds them, e.g. `KugelCommsModuleOptions['http']`,
 *   `Parameters<DaprClientHelper['saveState']>[3]`, `ReturnType<CircuitBreaker['snapshot']>`.
 * - Internal providers, the constructors' `Init` shapes of the errors, the path encoder behind
 *   `pathOf`, and the defaults (the `@default` of each option says them).
 * - The Kugelpos document types (what the web repositories return and take: the master data, the
 *   transaction log, the envelope) and the Kugelpos delivery-status rules live in
 *   `kugel-comms/kugelpos`. The repositories themselves stay here and stay registered by `forRoot`,
 *   with `TerminalContext`, the argument of every call to them: an app that injects them imports
 *   the classes and `TerminalContext` from `kugel-comms` and, when it names the documents, their
 *   types from `kugel-comms/kugelpos`. An app that never talks to Kugelpos services never meets
 *   those 37 names.
 * - The in-memory stand-ins (the testing module, `InMemoryRepublishSource`) live in
 *   `kugel-comms/testing`.
 */

// ---- module and options -------------------------------------------------------------------------
export { KugelCommsModule } from './kugel-comms.module';
export type {
  KugelCommsModuleOptions,
  ServiceOptions,
  HttpOptions,
  DaprOptions,
  SubscriptionOptions,
  RealtimeOptions,
  CircuitBreakerOptions,
} from './interfaces/kugel-comms-options.interface';
export type { BackoffOptions } from './interfaces/backoff-options.interface';

// ---- REST ---------------------------------------------------------------------------------------
export { HttpClientHelper } from './http/http-client.helper';
export { ServiceClient } from './http/service-client';
export type { RequestOptions, RequestConfig, HttpResponse } from './http/request-options.interface';
export { InjectServiceClient, getServiceClientToken } from './http/service-client.decorator';
export { InjectHttpService, getHttpServiceToken } from './http/http-service.decorator';
export { GatewayErrorFilter, gatewayAnswer, GATEWAY_ERROR_FILTER_OPTIONS } from './http/gateway-error.filter';
export type { GatewayErrorFilterOptions } from './http/gateway-error.filter';
export { pathOf } from './input/path';

// ---- Dapr ---------------------------------------------------------------------------------------
export { DaprClientHelper } from './dapr/dapr-client.helper';
export type {
  DaprResult,
  PublishOptions,
  SaveStateOptions,
  GetStateOptions,
  DeleteStateOptions,
  StateTransactionOperation,
  BulkPublishEntry,
  BulkPublishResult,
} from './dapr/dapr.interfaces';

// ---- publishing without loss: the republisher --------------------------------------------------
export { EventRepublishers } from './republish/event-republishers.service';
export type { EventRepublisher } from './republish/event-republisher';
export type { RepublisherStatus } from './republish/republisher-status.interface';
export type { RepublisherOptions } from './republish/republisher-options';
export type { RepublisherAsyncOptions } from './republish/republisher-feature';
export type {
  RepublishSource,
  UndeliveredEvent,
  UndeliveredQuery,
  UndeliveredStats,
} from './republish/republish-source.interface';
export { InjectRepublisher, getRepublisherToken } from './republish/republisher.decorator';
export { RepublisherHealthIndicator } from './republish/republisher.health';

// ---- circuit breakers and health ----------------------------------------------------------------
export { CircuitBreaker } from './circuit-breaker/circuit-breaker';
export type { CircuitStateChange } from './circuit-breaker/circuit-breaker';
export { CircuitState } from './circuit-breaker/circuit-state';
export { CircuitBreakerRegistry } from './circuit-breaker/circuit-breaker.registry';
export { CircuitBreakerHealthIndicator } from './health/circuit-breaker.health';

// ---- auth ---------------------------------------------------------------------------------------
export { apiKeyHeaders, bearerHeaders } from './auth/auth-headers';
export { ServiceTokenService } from './auth/service-token.service';

// ---- observability ------------------------------------------------------------------------------
export { KugelCommsEvents } from './kugel-comms.events';
export type { RequestCompletedEvent, RetryScheduledEvent, RetryBudgetExhaustedEvent } from './transport/call-events';
export { KugelCommsMetrics } from './observability/comms-metrics.service';
export { METRIC_NAMES } from './metric-names';
export type { Unsubscribe } from './common/event';

// ---- errors -------------------------------------------------------------------------------------
export { HttpClientError, isHttpClientError } from './errors/http-client.error';
export { BrokenCircuitError, isBrokenCircuitError } from './errors/broken-circuit.error';
export { InvalidOptionsError, isInvalidOptionsError } from './errors/invalid-options.error';
export { NotFoundError, isNotFoundError } from './errors/not-found.error';
export { RepositoryError, isRepositoryError } from './errors/repository.error';
export { DropEvent, isDropEvent } from './errors/drop-event.error';
export { InvalidSubscriptionError, isInvalidSubscriptionError } from './errors/invalid-subscription.error';
export { RealtimeError, isRealtimeError } from './errors/realtime.error';

// ---- subscriptions (the receiving half) ---------------------------------------------------------
export { DaprSubscribe } from './subscriptions/dapr-subscribe.decorator';
export type { DaprSubscribeOptions } from './subscriptions/dapr-subscribe.decorator';
export type {
  DaprEvent,
  DaprEventStatus,
  BulkHandlerResult,
  EventTransaction,
} from './subscriptions/dapr-event.interface';
export type { EventReceivedEvent, EventHandledEvent, ClaimSettledEvent } from './subscriptions/subscription-events';

// ---- real-time (WebSocket) ----------------------------------------------------------------------
export { RealtimeClient } from './realtime/realtime-client.service';
export { RealtimeConnection } from './realtime/realtime-connection';
export type { RealtimeState, RealtimeMessage } from './realtime/realtime-connection.interface';
export type { RealtimeConnectOptions } from './realtime/realtime-connect-options.interface';
export { RealtimeHealthIndicator } from './realtime/realtime.health';
export type {
  RealtimeOpenedEvent,
  RealtimeClosedEvent,
  RealtimeReconnectEvent,
  RealtimeMessageEvent,
  RealtimeSendFailedEvent,
} from './realtime/realtime-events';

// ---- repositories (registered by forRoot; their document types: `kugel-comms/kugelpos`) ----------
export { ItemMasterWebRepository } from './repositories/item-master-web.repository';
export { PaymentMasterWebRepository } from './repositories/payment-master-web.repository';
export { SettingsMasterWebRepository } from './repositories/settings-master-web.repository';
export { TranlogWebRepository } from './repositories/tranlog-web.repository';
export { TerminalInfoWebRepository } from './repositories/terminal-info-web.repository';
export { StoreInfoWebRepository } from './repositories/store-info-web.repository';
export { StaffMasterWebRepository } from './repositories/staff-master-web.repository';
export { DeliveryStatusWebRepository } from './repositories/delivery-status-web.repository';
export { PubsubManager } from './repositories/pubsub.manager';
export { StateStoreManager } from './repositories/state-store.manager';
export type { TerminalContext } from './repositories/repository.interfaces';
