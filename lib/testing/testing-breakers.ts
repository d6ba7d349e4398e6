import { CircuitBreaker } from '../circuit-breaker/circuit-breaker';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { HttpClientHelper } from '../http/http-client.helper';

/** What the breakers of the app under test come from (resolved when first used). */
export interface BreakerSources {
  registry(): CircuitBreakerRegistry;
  http(): HttpClientHelper;
  dapr(): DaprClientHelper;
}

/**
 * The app's own circuit breakers (`KugelCommsTesting.breakers`), forced open or closed through the
 * real `CircuitBreaker` (`isolate()` / `reset()`), so calls are refused without I/O, the state
 * changes are events and metrics, and `CircuitBreakerHealthIndicator` reports them. A breaker not
 * made yet is made as the app would make it: `http:<service>` when the service has breaker options,
 * `state:<store>` and `pubsub:<pubsub>` with the sidecar's.
 */
export class TestingBreakers {
  /** @internal Made by `KugelCommsTestingModule`. */
  constructor(private readonly sources: BreakerSources) {}

  /** Holds `name` open (every call refused, no trial) until `close(name)`. */
  open(name: string): CircuitBreaker {
    const breaker = this.get(name);
    breaker.isolate();
    return breaker;
  }

  /** Closes `name` and forgets its failures. */
  close(name: string): CircuitBreaker {
    const breaker = this.get(name);
    breaker.reset();
    return breaker;
  }

  /** The breaker `name` (`http:master-data`, `state:statestore`, `pubsub:pubsub`). */
  get(name: string): CircuitBreaker {
    const existing = this.sources.registry().find(name);
    if (existing) return existing;
    const [kind, component] = splitName(name);
    if (kind === 'state' || kind === 'pubsub') return this.sources.dapr().breakerFor(kind, component);
    const breaker = this.sources.http().getServiceClient(component).breaker;
    if (!breaker) {
      throw new Error(
        `service "${component}" has no breaker: set services["${component}"].breaker or http.breaker in the KugelCommsModule options`,
      );
    }
    return breaker;
  }

  /** Closes every breaker of the app. */
  closeAll(): void {
    for (const breaker of this.sources.registry().all()) breaker.reset();
  }
}

function splitName(name: string): ['http' | 'state' | 'pubsub', string] {
  const m = /^(http|state|pubsub):(.+)$/.exec(String(name));
  if (!m) {
    throw new Error(`breaker name ${JSON.stringify(name)} must be http:<service>, state:<store> or pubsub:<pubsub>`);
  }
  return [m[1] as 'http' | 'state' | 'pubsub', m[2]];
}
