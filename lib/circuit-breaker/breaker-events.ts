import { EventSource } from '../common/event';
import { CircuitStateChange } from './circuit-breaker';

/**
 * A breaker changed state (name, from, to, reason, consecutive failures, epoch ms). The change
 * from open to half-open is noticed lazily: when a call, a health check or a metrics scrape reads
 * the breaker after its reset timeout.
 */
export type BreakerStateChangedEvent = CircuitStateChange;

/**
 * The state changes of every breaker of the application, re-emitted by `CircuitBreakerRegistry`
 * (each breaker also has its own `onStateChange`).
 */
export class BreakerEvents {
  readonly breakerStateChanged = new EventSource<BreakerStateChangedEvent>();
}
