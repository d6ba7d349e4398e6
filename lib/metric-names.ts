import { METRIC_NAMES as CALL_METRIC_NAMES } from './observability/comms-metrics.service';
import { REALTIME_METRIC_NAMES } from './realtime/realtime-metrics.service';
import { REPUBLISH_METRIC_NAMES } from './republish/republish-metrics.service';
import { SUBSCRIPTION_METRIC_NAMES } from './subscriptions/subscription-metrics.service';

/**
 * The Prometheus metric names kugel-comms writes (when `metrics.enabled`), by feature, without the
 * prefix (`metrics.prefix`, `kugel_comms_` by default): `${prefix}${METRIC_NAMES.calls.requests}`.
 *
 * - `calls`: outgoing REST and sidecar calls and their breakers. The `circuit_breaker_state` gauge
 *   is 0 closed, 1 half-open, 2 open.
 * - `subscriptions`: `@DaprSubscribe` handlers.
 * - `republish`: the republishers.
 * - `realtime`: the WebSocket connections.
 *
 * Each feature owns its names; this object only gathers them for the package's users.
 */
export const METRIC_NAMES = {
  calls: CALL_METRIC_NAMES,
  subscriptions: SUBSCRIPTION_METRIC_NAMES,
  republish: REPUBLISH_METRIC_NAMES,
  realtime: REALTIME_METRIC_NAMES,
} as const;
