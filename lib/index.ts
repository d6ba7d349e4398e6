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
export type { CircuitPermit, CircuitSnapshot, CircuitStateChange } from './circuit-breaker/circuit-breaker';
export { CircuitState } from './circuit-breaker/circuit-state';
export { CircuitBreakerRegistry } from './circuit-breaker/circuit-breaker.registry';

export { CircuitBreakerHealthIndicator } from './health/circuit-breaker.health';
export type { BreakerHealthDetails, BreakerCheckOptions } from './health/circuit-breaker.health';

export { apiKeyHeaders, bearerHeaders, terminalAuth } from './auth/auth-headers';
export type { TerminalCredentials } from './auth/auth-headers';
export { ServiceTokenService } from './auth/service-token.service';
export type { ServiceTokenClaims } from './auth/service-token.service';

export { KugelCommsEvents } from './observability/comms-events';
export type { RequestCompletedEvent, RetryScheduledEvent, RetryBudgetExhaustedEvent } from './observability/comms-events';
export type { Unsubscribe } from './common/event';

export { HttpClientError, isHttpClientError } from './errors/http-client.error';
export { BrokenCircuitError, isBrokenCircuitError } from './errors/broken-circuit.error';
export { InvalidOptionsError, isInvalidOptionsError } from './errors/invalid-options.error';
