// Public API of kugel-comms: what an application imports. Everything not listed here is internal
// (the options' defaults and resolvers but the WebSocket client's REALTIME_DEFAULTS, the transport,
// the injection token of the resolved options).

// ---- module and options -------------------------------------------------------------------------
export { KugelCommsModule } from './kugel-comms.module';
export type { KugelCommsModuleExtras } from './kugel-comms.module-definition';
export type {
  KugelCommsModuleOptions,
  ServiceOptions,
  HttpOptions,
  RetryBudgetOptions,
  CircuitBreakerOptions,
  DaprOptions,
  AuthOptions,
  ServiceTokenOptions,
  HealthOptions,
  MetricsOptions,
  MetricsRegistry,
  TracingOptions,
  RepositoryName,
  RepositoryOptions,
  SubscriptionOptions,
  RealtimeOptions,
  RealtimeSettings,
  ReconnectOptions,
} from './interfaces/kugel-comms-options.interface';

// ---- REST ---------------------------------------------------------------------------------------
export { HttpClientHelper } from './http/http-client.helper';
export { ServiceClient } from './http/service-client';
export type { RequestOptions, RequestConfig, HttpResponse, QueryValue } from './http/request-options.interface';
export { InjectServiceClient, getServiceClientToken } from './http/service-client.decorator';
export { InjectHttpService, getHttpServiceToken } from './http/http-service.decorator';
export { envVariableFor } from './http/service-discovery';
export { GatewayErrorFilter, gatewayAnswer, GATEWAY_ERROR_FILTER_OPTIONS } from './http/gateway-error.filter';
export type { GatewayErrorFilterOptions, GatewayAnswer } from './http/gateway-error.filter';
export { encodePathSegment, pathOf } from './input/path';

// ---- Dapr ---------------------------------------------------------------------------------------
export { DaprClientHelper } from './dapr/dapr-client.helper';
export type { DaprDetailedClient } from './dapr/dapr-detailed.client';
export type {
  DaprResult,
  DaprFailure,
  PublishOptions,
  SaveStateOptions,
  GetStateOptions,
  DeleteStateOptions,
  BulkStateOptions,
  StateTransactionOperation,
  StateConsistency,
  StateConcurrency,
  BulkPublishEntry,
  BulkPublishOptions,
  BulkPublishResult,
  BulkPublishFailedEntry,
  OutboxOptions,
} from './dapr/dapr.interfaces';

// ---- publishing without loss: republisher and delivery status ----------------------------------
export { EventRepublishers } from './republish/event-republishers.service';
export type { EventRepublisher } from './republish/event-republisher';
export type { RepublishPass, RepublisherStatus } from './republish/republisher-status.interface';
export type { RepublisherOptions } from './republish/republisher-options';
export type { RepublisherAsyncOptions } from './republish/republisher-feature';
export type {
  RepublishSource,
  UndeliveredEvent,
  UndeliveredQuery,
  UndeliveredStats,
} from './republish/republish-source.interface';
export { InMemoryRepublishSource } from './republish/in-memory-republish.source';
export type { DeliveryRecord } from './republish/in-memory-republish.source';
export { InjectRepublisher, getRepublisherToken } from './republish/republisher.decorator';
export { RepublisherHealthIndicator } from './republish/republisher.health';
export type { RepublisherHealthDetails, RepublisherCheckOptions } from './republish/republisher.health';
export { REPUBLISH_METRIC_NAMES } from './republish/republish-metrics.service';
export { rollUpDeliveryStatus, applyDeliveryCallback, pendingConsumers } from './delivery/delivery-status';
export type {
  DeliveryStatus,
  ConsumerStatus,
  ConsumerDelivery,
  DeliveryCallback,
  DeliveryCallbackStatus,
  PublishOutcome,
  CallbackRefusal,
} from './delivery/delivery-status';

// ---- circuit breakers and health ----------------------------------------------------------------
export { CircuitBreaker } from './circuit-breaker/circuit-breaker';
export type {
  CircuitPermit,
  CircuitSnapshot,
  CircuitStateChange,
  CircuitStateChangeReason,
} from './circuit-breaker/circuit-breaker';
export { CircuitState } from './circuit-breaker/circuit-state';
export { CircuitBreakerRegistry } from './circuit-breaker/circuit-breaker.registry';
export { CircuitBreakerHealthIndicator } from './health/circuit-breaker.health';
export type { BreakerHealthDetails, BreakerCheckOptions } from './health/circuit-breaker.health';

// ---- auth ---------------------------------------------------------------------------------------
export { apiKeyHeaders, bearerHeaders, terminalAuth } from './auth/auth-headers';
export type { TerminalCredentials } from './auth/auth-headers';
export { ServiceTokenService } from './auth/service-token.service';
export type { ServiceTokenClaims } from './auth/service-token.service';

// ---- observability ------------------------------------------------------------------------------
export { KugelCommsEvents } from './kugel-comms.events';
export type { RequestCompletedEvent, RetryScheduledEvent, RetryBudgetExhaustedEvent } from './transport/call-events';
export type { BreakerStateChangedEvent } from './circuit-breaker/breaker-events';
export { KugelCommsMetrics, METRIC_NAMES, CIRCUIT_STATE_GAUGE_VALUE } from './observability/comms-metrics.service';
export type { Unsubscribe } from './common/event';

// ---- errors -------------------------------------------------------------------------------------
export { HttpClientError, isHttpClientError } from './errors/http-client.error';
export type { HttpClientErrorInit } from './errors/http-client.error';
export { BrokenCircuitError, isBrokenCircuitError } from './errors/broken-circuit.error';
export { InvalidOptionsError, isInvalidOptionsError } from './errors/invalid-options.error';
export { NotFoundError, isNotFoundError } from './errors/not-found.error';
export type { NotFoundErrorInit } from './errors/not-found.error';
export { RepositoryError, isRepositoryError } from './errors/repository.error';
export type { RepositoryErrorInit } from './errors/repository.error';

// ---- subscriptions (the receiving half) ---------------------------------------------------------
export { DaprSubscribe } from './subscriptions/dapr-subscribe.decorator';
export type {
  DaprSubscribeOptions,
  DedupeOptions,
  BulkSubscribeOptions,
} from './subscriptions/dapr-subscribe.decorator';
export type { DaprEvent, DaprEventStatus, BulkHandlerResult, EventTransaction } from './subscriptions/dapr-event.interface';
export { DropEvent, isDropEvent } from './errors/drop-event.error';
export { InvalidSubscriptionError, isInvalidSubscriptionError } from './errors/invalid-subscription.error';
export { SubscriptionsService } from './subscriptions/subscriptions.service';
export type { DaprSubscriptionJson } from './subscriptions/subscription-list';
export type {
  EventReceivedEvent,
  EventHandledEvent,
  EventOutcomeReason,
  ClaimSettledEvent,
} from './subscriptions/subscription-events';
export type { ClaimOutcome } from './claims/claim-terms';
export { SUBSCRIPTION_METRIC_NAMES } from './subscriptions/subscription-metrics.service';

// ---- real-time (WebSocket) ----------------------------------------------------------------------
export { RealtimeClient } from './realtime/realtime-client.service';
export { RealtimeConnection } from './realtime/realtime-connection';
export type { RealtimePayload } from './realtime/realtime-connection';
export type {
  RealtimeState,
  RealtimeMessage,
  RealtimeConnectionSnapshot,
} from './realtime/realtime-connection.interface';
export type { RealtimeConnectOptions, RealtimeAuth, PerAttempt } from './realtime/realtime-connect-options.interface';
export { REALTIME_DEFAULTS } from './options/defaults';
export { RealtimeHealthIndicator } from './realtime/realtime.health';
export type { RealtimeHealthDetails, RealtimeCheckOptions } from './realtime/realtime.health';
export { REALTIME_METRIC_NAMES } from './realtime/realtime-metrics.service';
export type {
  RealtimeEvents,
  RealtimeConnectionRef,
  RealtimeOpenedEvent,
  RealtimeClosedEvent,
  RealtimeReconnectEvent,
  RealtimeMessageEvent,
  RealtimeSendFailedEvent,
} from './realtime/realtime-events';
export { RealtimeError, isRealtimeError } from './errors/realtime.error';
export type { RealtimeErrorInit } from './errors/realtime.error';

// ---- repositories -------------------------------------------------------------------------------
export { ItemMasterWebRepository } from './repositories/item-master-web.repository';
export { PaymentMasterWebRepository } from './repositories/payment-master-web.repository';
export { SettingsMasterWebRepository } from './repositories/settings-master-web.repository';
export { TranlogWebRepository } from './repositories/tranlog-web.repository';
export type { TranlogQuery } from './repositories/tranlog-web.repository';
export { TerminalInfoWebRepository } from './repositories/terminal-info-web.repository';
export { StoreInfoWebRepository } from './repositories/store-info-web.repository';
export { StaffMasterWebRepository } from './repositories/staff-master-web.repository';
export { PubsubManager } from './repositories/pubsub.manager';
export { StateStoreManager } from './repositories/state-store.manager';
export { DeliveryStatusWebRepository } from './repositories/delivery-status-web.repository';
export type { DeliveryNotice, TranlogOrigin, TerminalLogOrigin } from './repositories/delivery-status-web.repository';
export type { StateReadResult } from './repositories/state-store.manager';
export type {
  TerminalContext,
  ApiEnvelope,
  EnvelopeMetadata,
  PaginatedResult,
} from './repositories/repository.interfaces';
export type {
  DeliveryAck,
  ItemMasterDocument,
  PaymentMasterDocument,
  SettingsMasterDocument,
  SettingsValue,
  SettingValue,
  StaffMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
  TerminalStaff,
  TransactionDiscount,
  TransactionDocument,
  TransactionLineItem,
  TransactionPayment,
  TransactionStaff,
  TransactionStatus,
  TransactionTax,
} from './repositories/documents.interface';
