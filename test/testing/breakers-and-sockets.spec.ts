import { Injectable, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import * as net from 'node:net';
import {
  CircuitBreakerHealthIndicator,
  DaprClientHelper,
  DaprEvent,
  DaprSubscribe,
  HttpClientHelper,
  InjectServiceClient,
  KugelCommsModule,
  ServiceClient,
} from '../../lib';
import { KugelCommsTesting, KugelCommsTestingModule } from '../../lib/testing';
import { closedPort } from '../support/test-server';

@Injectable()
class PriceService {
  readonly received: unknown[] = [];
  constructor(
    @InjectServiceClient('pricing') private readonly pricing: ServiceClient,
    private readonly dapr: DaprClientHelper,
  ) {}

  async quote(code: string): Promise<{ price: number; published: boolean }> {
    const { price } = await this.pricing.get<{ price: number }>(`/prices/${code}`);
    const published = await this.dapr.publishEvent('pubsub', 'quotes', { code, price });
    await this.dapr.saveState('statestore', `quote-${code}`, { price });
    return { price, published };
  }

  @DaprSubscribe('pubsub', 'quotes')
  onQuote(event: DaprEvent) {
    this.received.push(event.data);
  }
}

@Module({ imports: [KugelCommsModule.forFeature(['pricing'])], providers: [PriceService] })
class PriceModule {}

/**
 * The app under test as it is: its own `forRootAsync` with base URLs and a sidecar endpoint on
 * ports nothing listens on. The testing module next to it answers everything in memory.
 */
async function bootApp(): Promise<TestingModule> {
  const down = `http://127.0.0.1:${await closedPort()}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      KugelCommsModule.forRootAsync({
        isGlobal: true,
        useFactory: () => ({
          services: { pricing: { baseUrl: down, breaker: { failureThreshold: 3 } } },
          dapr: { httpEndpoint: down },
        }),
      }),
      PriceModule,
      KugelCommsTestingModule.forRoot({
        stubs: {
          pricing: [
            { method: 'GET', path: '/prices/:code', reply: (r) => ({ body: { price: r.params.code.length } }) },
          ],
        },
      }),
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('KugelCommsTestingModule: no sockets, and breakers forced open or closed', () => {
  let moduleRef: TestingModule;
  let kugel: KugelCommsTesting;
  let prices: PriceService;
  beforeAll(async () => {
    moduleRef = await bootApp();
    kugel = moduleRef.get(KugelCommsTesting);
    prices = moduleRef.get(PriceService);
  });
  afterAll(() => moduleRef?.close());
  beforeEach(() => kugel.reset());

  it('opens no socket at all: a REST call, a publish, a state write, a delivery, the health probe', async () => {
    const connect = jest.spyOn(net.Socket.prototype, 'connect');
    try {
      await expect(prices.quote('abc')).resolves.toEqual({ price: 3, published: true });
      await expect(kugel.dapr.flush()).resolves.toMatchObject([{ topic: 'quotes', status: 'SUCCESS' }]);
      expect(prices.received.at(-1)).toEqual({ code: 'abc', price: 3 });
      expect(kugel.dapr.state()).toEqual({ 'quote-abc': { price: 3 } });
      await expect(moduleRef.get(CircuitBreakerHealthIndicator).isSidecarHealthy()).resolves.toEqual({
        'dapr-sidecar': { status: 'up' },
      });
      expect(connect).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
    }
  });

  it('a REST breaker forced open refuses calls without reaching the stub, and the health indicator reports it', async () => {
    const breaker = kugel.breakers.open('http:pricing');
    expect(breaker.state).toBe('open');
    await expect(prices.quote('abc')).rejects.toMatchObject({ code: 'ERR_CIRCUIT_OPEN', attempts: 0 });
    expect(kugel.calls('pricing')).toEqual([]);
    const indicator = moduleRef.get(CircuitBreakerHealthIndicator);
    // Reported by default (no breaker is critical unless listed); down where the check lists it.
    expect(indicator.isHealthy()['circuit-breakers']).toMatchObject({
      status: 'up',
      breakers: { 'http:pricing': { state: 'open', critical: false } },
    });
    const health = indicator.isHealthy('circuit-breakers', { criticalBreakers: ['http:pricing'] });
    expect(health['circuit-breakers']).toMatchObject({
      status: 'down',
      message: 'open circuit: http:pricing',
      breakers: { 'http:pricing': { state: 'open', critical: true } },
    });
    // Held open: no reset timeout lets a trial through.
    expect(health['circuit-breakers'].breakers['http:pricing'].nextAttemptAt).toBeUndefined();

    kugel.breakers.close('http:pricing');
    await expect(prices.quote('abc')).resolves.toMatchObject({ price: 3 });
    const closed = indicator.isHealthy('circuit-breakers', { criticalBreakers: ['http:pricing'] });
    expect(closed['circuit-breakers'].status).toBe('up');
  });

  it('a component breaker forced open: the sidecar is not asked, the client answers false / ERR_CIRCUIT_OPEN', async () => {
    kugel.breakers.open('pubsub:pubsub');
    const dapr = moduleRef.get(DaprClientHelper);
    await expect(dapr.publishEvent('pubsub', 'quotes', { x: 1 })).resolves.toBe(false);
    await expect(dapr.detailed.publishEvent('pubsub', 'quotes', { x: 1 })).resolves.toMatchObject({
      ok: false,
      code: 'ERR_CIRCUIT_OPEN',
    });
    expect(kugel.dapr.published('pubsub', 'quotes')).toEqual([]);
    // Other components keep working (one breaker per component).
    await expect(dapr.saveState('statestore', 'k', 1)).resolves.toBe(true);
    kugel.reset();
    expect(kugel.breakers.get('pubsub:pubsub').state).toBe('closed');
  });

  it('names what is wrong with a breaker that cannot be forced', () => {
    const md = moduleRef.get(HttpClientHelper);
    expect(md).toBeDefined();
    expect(() => kugel.breakers.open('pricing')).toThrow(
      'breaker name "pricing" must be http:<service>, state:<store> or pubsub:<pubsub>',
    );
    kugel.stub('catalog', { method: 'GET', path: '/x', reply: {} });
    expect(() => kugel.breakers.open('http:catalog')).toThrow(
      'service "catalog" has no breaker: set services["catalog"].breaker or http.breaker in the KugelCommsModule options',
    );
  });
});
