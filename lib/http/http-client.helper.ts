import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { KugelCommsEvents } from '../observability/comms-events';
import { RetryBudget } from '../transport/retry-budget';
import { createTransport, Transport } from '../transport/transport';
import { ServiceClient } from './service-client';
import { discoverService } from './service-discovery';

/**
 * Service-to-service REST: `getServiceClient('master-data')` returns the one pooled
 * `ServiceClient` of that peer (the same object on every call), with its keep-alive agent,
 * retries, retry budget and optional breaker. Agents are destroyed on application shutdown.
 */
@Injectable()
export class HttpClientHelper implements OnApplicationShutdown {
  private readonly logger = new Logger(HttpClientHelper.name);
  private readonly clients = new Map<string, ServiceClient>();
  private readonly transports: Transport[] = [];

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: KugelCommsEvents,
    private readonly breakers: CircuitBreakerRegistry,
  ) {}

  /**
   * The pooled client of `serviceName`. Throws `HttpClientError` (code `ERR_UNKNOWN_SERVICE`)
   * naming the option and the environment variable to set when the name is unknown.
   */
  getServiceClient(serviceName: string): ServiceClient {
    const existing = this.clients.get(serviceName);
    if (existing) return existing;
    const target = discoverService(serviceName, this.options);
    const o = target.options;
    const breaker = o.breaker ? this.breakers.get(`http:${serviceName}`, o.breaker) : undefined;
    const transport = createTransport({
      ...o,
      client: serviceName,
      budget: o.retryBudget ? new RetryBudget(o.retryBudget) : undefined,
      headers: target.headers,
      breakerGuard: breaker !== undefined,
      parsing: 'json',
      propagateTrace: this.options.tracing.propagate,
      events: this.events,
      logger: new Logger(`${HttpClientHelper.name}:${serviceName}`),
    });
    const client = new ServiceClient(serviceName, o.baseUrl, transport.runner, breaker);
    this.transports.push(transport);
    this.clients.set(serviceName, client);
    this.logger.log(`service "${serviceName}" → ${o.baseUrl} (from ${target.source}, maxSockets ${o.maxSockets})`);
    return client;
  }

  /** Destroys every pooled agent (their sockets close). */
  onApplicationShutdown(): void {
    for (const transport of this.transports.splice(0)) transport.destroy();
    this.clients.clear();
  }
}
