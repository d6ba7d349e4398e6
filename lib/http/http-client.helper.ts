import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { HttpService } from '@nestjs/axios';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { KUGEL_COMMS_RESOLVED_OPTIONS, KUGEL_COMMS_SENDER } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { CallEvents } from '../transport/call-events';
import { resolveService } from '../options/resolve-transport';
import { RetryBudget } from '../transport/retry-budget';
import { createTransport, Transport } from '../transport/transport';
import { TransportSender } from '../transport/transport-sender';
import { createHttpService } from './http-service.factory';
import { ServiceClient } from './service-client';
import { discoverService, ServiceTarget } from './service-discovery';

/**
 * Service-to-service REST: `getServiceClient('master-data')` returns the one pooled
 * `ServiceClient` of that peer (the same object on every call), with its keep-alive agent,
 * retries, retry budget and optional breaker; `getHttpService('master-data')` the same client as
 * an `@nestjs/axios` `HttpService`. Agents are destroyed on application shutdown.
 */
@Injectable()
export class HttpClientHelper implements OnApplicationShutdown {
  private readonly logger = new Logger(HttpClientHelper.name);
  private readonly clients = new Map<string, ServiceClient>();
  private readonly httpServices = new Map<string, HttpService>();
  private readonly transports: Transport[] = [];

  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    private readonly events: CallEvents,
    private readonly breakers: CircuitBreakerRegistry,
    @Optional() @Inject(KUGEL_COMMS_SENDER) private readonly sender?: TransportSender,
  ) {}

  /**
   * The pooled client of `serviceName`. Throws `HttpClientError` (code `ERR_UNKNOWN_SERVICE`)
   * naming the option and the environment variable to set when the name is unknown.
   */
  getServiceClient(serviceName: string): ServiceClient {
    const existing = this.clients.get(serviceName);
    if (existing) return existing;
    const target = this.discover(serviceName);
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
      send: this.sender?.serviceAdapter(serviceName),
    });
    const client = new ServiceClient(serviceName, o.baseUrl, transport.runner, breaker);
    this.transports.push(transport);
    this.clients.set(serviceName, client);
    const where = this.sender ? this.sender.label : `maxSockets ${o.maxSockets}`;
    this.logger.log(`service "${serviceName}" → ${o.baseUrl} (from ${target.source}, ${where})`);
    return client;
  }

  /**
   * The pooled client of `serviceName` as an `@nestjs/axios` `HttpService` (Observables): the
   * same object on every call, whose requests run through the same call runner as
   * `getServiceClient(serviceName)` — the same agent and sockets, retries and retry budget,
   * breaker, events and metrics. URLs are paths relative to the service's base URL. Failures are
   * `AxiosError`s whose `cause` is the `HttpClientError` a `ServiceClient` would throw. Needs `@nestjs/axios` installed; throws an `Error` saying so
   * otherwise, and `HttpClientError` (`ERR_UNKNOWN_SERVICE`) for an unknown name.
   */
  getHttpService(serviceName: string): HttpService {
    const existing = this.httpServices.get(serviceName);
    if (existing) return existing;
    const service = createHttpService(this.getServiceClient(serviceName));
    this.httpServices.set(serviceName, service);
    return service;
  }

  /** Discovery; a service only the testing module's stubs answer for gets the stubs' base URL (source `testing`). */
  private discover(
    serviceName: string,
  ): Omit<ServiceTarget, 'source'> & { source: ServiceTarget['source'] | 'testing' } {
    try {
      return discoverService(serviceName, this.options);
    } catch (error) {
      const baseUrl = this.sender?.baseUrlFor(serviceName);
      if (baseUrl === undefined) throw error;
      return { options: resolveService(serviceName, baseUrl, this.options.http), source: 'testing' };
    }
  }

  /** Destroys every pooled agent (their sockets close). */
  onApplicationShutdown(): void {
    for (const transport of this.transports.splice(0)) transport.destroy();
    this.clients.clear();
    this.httpServices.clear();
  }
}
