// Public API of kugel-comms. Everything not listed here is internal.
export { KugelCommsModule } from './kugel-comms.module';
export { KUGEL_COMMS_OPTIONS } from './kugel-comms.constants';
export type { KugelCommsModuleExtras } from './kugel-comms.module-definition';
export { DEFAULTS, resolveOptions } from './kugel-comms.defaults';
export type { ResolvedKugelCommsOptions } from './kugel-comms.defaults';
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
} from './interfaces/kugel-comms-options.interface';

export { HttpClientHelper } from './http/http-client.helper';
export { ServiceClient } from './http/service-client';
export type { RequestOptions, RequestConfig, HttpResponse, QueryValue } from './http/service-client';
export { encodePathSegment, pathOf } from './http/path';
export { envVariableFor } from './http/service-discovery';
export { RetryBudget } from './http/retry-budget';

export { DaprClientHelper } from './dapr/dapr-client.helper';
export type {
  DaprResult,
  PublishOptions,
  SaveStateOptions,
  GetStateOptions,
  DeleteStateOptions,
  BulkStateOptions,
  StateTransactionOperation,
  StateEntry,
  StateConsistency,
  StateConcurrency,
} from './dapr/dapr.interfaces';

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

export { apiKeyHeaders, bearerHeaders, terminalAuth } from './auth/auth-headers';
export type { TerminalCredentials } from './auth/auth-headers';
export { ServiceTokenService } from './auth/service-token.service';
export type { ServiceTokenClaims } from './auth/service-token.service';

export { KugelCommsEvents } from './observability/comms-events';
export type {
  RequestCompletedEvent,
  RetryScheduledEvent,
  RetryBudgetExhaustedEvent,
  BreakerStateChangedEvent,
} from './observability/comms-events';
export {
  KugelCommsMetrics,
  METRIC_NAMES,
  CIRCUIT_STATE_GAUGE_VALUE,
  statusClass,
} from './observability/comms-metrics.service';
export { activeTraceHeaders } from './observability/trace-context';
export type { Unsubscribe } from './common/event';

export { HttpClientError, isHttpClientError } from './errors/http-client.error';
export { BrokenCircuitError, isBrokenCircuitError } from './errors/broken-circuit.error';
export { InvalidOptionsError, isInvalidOptionsError } from './errors/invalid-options.error';

// ---- subscriptions (the receiving half) ---------------------------------------------------------
export { DaprSubscribe } from './subscriptions/dapr-subscribe.decorator';
export type {
  DaprSubscribeOptions,
  DedupeOptions,
  BulkSubscribeOptions,
} from './subscriptions/dapr-subscribe.decorator';
export type { DaprEvent, DaprEventStatus, BulkHandlerResult } from './subscriptions/dapr-event.interface';
export { DropEvent, isDropEvent } from './errors/drop-event.error';
export { InvalidSubscriptionError, isInvalidSubscriptionError } from './errors/invalid-subscription.error';
export type { SubscriptionOptions } from './subscriptions/subscription-options';
export { SubscriptionsService } from './subscriptions/subscriptions.service';
export type { DaprSubscriptionJson } from './subscriptions/subscription-list';
export type { EventReceivedEvent, EventHandledEvent, EventOutcomeReason } from './subscriptions/subscription-events';
export { SUBSCRIPTION_METRIC_NAMES } from './subscriptions/subscription-metrics.service';

// ---- repositories -------------------------------------------------------------------------------
export type { RepositoryName, RepositoryOptions } from './interfaces/kugel-comms-options.interface';
export { ItemMasterWebRepository } from './repositories/item-master-web.repository';
export { PaymentMasterWebRepository } from './repositories/payment-master-web.repository';
export { SettingsMasterWebRepository } from './repositories/settings-master-web.repository';
export { TranlogWebRepository } from './repositories/tranlog-web.repository';
export type { TranlogQuery } from './repositories/tranlog-web.repository';
export { TerminalInfoWebRepository } from './repositories/terminal-info-web.repository';
export { StoreInfoWebRepository } from './repositories/store-info-web.repository';
export { StaffMasterWebRepository } from './repositories/staff-master-web.repository';
export { PubsubManager } from './repositories/pubsub.manager';
export type { PublishResult } from './repositories/pubsub.manager';
export { StateStoreManager } from './repositories/state-store.manager';
export type { StateReadResult, StateWriteResult } from './repositories/state-store.manager';
export type {
  TerminalContext,
  ApiEnvelope,
  EnvelopeMetadata,
  PaginatedResult,
} from './repositories/repository.interfaces';
export type {
  BaseDocument,
  ItemMasterDocument,
  PaymentMasterDocument,
  SettingsMasterDocument,
  SettingsValue,
  SettingValue,
  StaffMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
  TransactionDocument,
  TransactionSales,
} from './repositories/documents.interface';
export { NotFoundError, isNotFoundError } from './errors/not-found.error';
export type { NotFoundErrorInit } from './errors/not-found.error';
export { RepositoryError, isRepositoryError } from './errors/repository.error';
export type { RepositoryErrorInit } from './errors/repository.error';
