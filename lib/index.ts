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

// ---- real-time (WebSocket) ----------------------------------------------------------------------
export { RealtimeClient } from './realtime/realtime-client.service';
export { RealtimeConnection } from './realtime/realtime-connection';
export type { RealtimePayload } from './realtime/realtime-connection';
export type {
  RealtimeState,
  RealtimeMessage,
  RealtimeConnectionSnapshot,
} from './realtime/realtime-connection.interface';
export type {
  RealtimeOptions,
  RealtimeSettings,
  RealtimeConnectOptions,
  RealtimeAuth,
  ReconnectOptions,
  PerAttempt,
} from './realtime/realtime-options.interface';
export { REALTIME_DEFAULTS } from './realtime/realtime-options';
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
