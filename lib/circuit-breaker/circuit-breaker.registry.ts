import { Injectable, Logger } from '@nestjs/common';
import { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface';
import { BreakerEvents } from './breaker-events';
import { CircuitBreaker } from './circuit-breaker';

/**
 * Every breaker of the application, by name (`state:statestore`, `pubsub:pubsub`,
 * `http:master-data`). Logs each state change at WARN and re-emits it on `BreakerEvents` (which
 * `KugelCommsEvents` gathers with the others); the health indicator and the metrics read from here.
 */
@Injectable()
export class CircuitBreakerRegistry {
  private readonly logger = new Logger(CircuitBreakerRegistry.name);
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly events: BreakerEvents) {}

  /** The breaker of that name, created with `options` the first time. */
  get(name: string, options: CircuitBreakerOptions): CircuitBreaker {
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker(name, options);
      breaker.onStateChange.on((change) => {
        this.logger.warn(
          `circuit "${change.breaker}" ${change.from} → ${change.to} (${change.reason}, ${change.failures} consecutive failures)`,
        );
        this.events.breakerStateChanged.emit(change);
      });
      this.breakers.set(name, breaker);
    }
    return breaker;
  }

  find(name: string): CircuitBreaker | undefined {
    return this.breakers.get(name);
  }

  all(): CircuitBreaker[] {
    return [...this.breakers.values()];
  }
}
