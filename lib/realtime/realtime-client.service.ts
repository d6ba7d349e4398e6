import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ServiceTokenService } from '../auth/service-token.service';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { RealtimeError } from '../errors/realtime.error';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { resolveRealtimeSettings } from '../options/resolve-realtime';
import { isStringArray } from '../options/validators';
import { ResolvedKugelCommsOptions, ResolvedRealtimeSettings } from '../options/resolved-options.interface';
import { RealtimeEvents } from './realtime-events';
import { RealtimeConnection } from './realtime-connection';
import { handshakeBuilder } from './realtime-handshake';
import { RealtimeConnectOptions } from './realtime-connect-options.interface';
import { resolveRealtimeTarget } from './realtime-target';

/**
 * Service-to-service WebSocket connections. `connect('stock', pathOf`/ws/${tenant}/${store}`, options)`
 * finds the peer like `HttpClientHelper` does (`services[name]`, then `BASE_URL_<NAME>`; `http:` →
 * `ws:`, `https:` → `wss:`) and returns a `RealtimeConnection` that is already connecting and keeps
 * itself open until closed. Every connection is closed, and every timer cleared, on application
 * shutdown.
 */
@Injectable()
export class RealtimeClient implements OnApplicationShutdown {
  private readonly logger = new Logger(RealtimeClient.name);
  private readonly live = new Map<string, RealtimeConnection>();
  private count = 0;
  private shutDown = false;

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: RealtimeEvents,
    private readonly breakers: CircuitBreakerRegistry,
    private readonly tokens: ServiceTokenService,
  ) {}

  /**
   * Opens a managed connection to `path` under the base URL of `serviceName`. Throws
   * `RealtimeError` at once, before any I/O, for an unknown service (`ERR_UNKNOWN_SERVICE`), a path
   * that would leave the configured host, bad options or credentials (`ERR_BAD_REQUEST_INPUT`), or
   * after shutdown (`ERR_CLIENT_CLOSED`). Connection failures are never thrown: the connection
   * retries, and reports them through `onError`, its state and the health indicator.
   */
  connect(serviceName: string, path: string, options: RealtimeConnectOptions = {}): RealtimeConnection {
    if (this.shutDown) {
      throw new RealtimeError(`connect ${serviceName}: the application is shutting down`, {
        code: 'ERR_CLIENT_CLOSED',
        service: serviceName,
      });
    }
    if (typeof options !== 'object' || options === null) {
      throw new RealtimeError(`connect ${serviceName}: options must be an object`, {
        code: 'ERR_BAD_REQUEST_INPUT',
        service: serviceName,
      });
    }
    const target = resolveRealtimeTarget(serviceName, path, this.options);
    const settings = this.settingsFor(serviceName, options);
    const handshake = handshakeBuilder(serviceName, options, this.tokens, this.options.auth.apiKey);
    if (options.protocols !== undefined && !isStringArray(options.protocols)) {
      throw new RealtimeError(`connect ${serviceName}: protocols must be an array of strings`, {
        code: 'ERR_BAD_REQUEST_INPUT',
        service: serviceName,
      });
    }
    const breakerOptions = this.options.realtime.breaker;
    this.count += 1;
    const connection = new RealtimeConnection({
      id: `${serviceName}#${this.count}`,
      target,
      settings,
      handshake,
      protocols: options.protocols,
      breaker: breakerOptions ? this.breakers.get(`ws:${serviceName}`, breakerOptions) : undefined,
      events: this.events,
      logger: new Logger(`${RealtimeClient.name}:${serviceName}`),
      onEnded: (id) => this.live.delete(id),
    });
    this.live.set(connection.id, connection);
    connection.start();
    return connection;
  }

  /** Every connection not closed yet. */
  connections(): RealtimeConnection[] {
    return [...this.live.values()];
  }

  /** Closes every connection (1001 "going away") and waits until each socket and timer is gone. */
  async onApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    const open = this.connections();
    if (open.length > 0) this.logger.log(`closing ${open.length} WebSocket connection(s)`);
    await Promise.all(open.map((c) => c.close(1001, 'going away')));
  }

  private settingsFor(serviceName: string, options: RealtimeConnectOptions): ResolvedRealtimeSettings {
    const { auth: _a, headers: _h, query: _q, protocols: _p, ...overrides } = options;
    try {
      return resolveRealtimeSettings(overrides, this.options.realtime, 'options');
    } catch (error) {
      if (!isInvalidOptionsError(error)) throw error;
      throw new RealtimeError(`connect ${serviceName}: ${error.message.replace(/^KugelCommsModule /, '')}`, {
        code: 'ERR_BAD_REQUEST_INPUT',
        service: serviceName,
      });
    }
  }
}
