import { call, SampleApp, startSampleApp, SAMPLE_CLOSE_TIMEOUT_MS } from './sample-app.fixture';

describe('sample app: GET /metrics (Prometheus scrape)', () => {
  let sample: SampleApp;
  let base: string;

  beforeAll(async () => {
    sample = await startSampleApp();
    base = sample.base;
  }, 120_000);
  afterAll(() => sample?.close(), SAMPLE_CLOSE_TIMEOUT_MS);

  it('answers 200 in the Prometheus text format with the calls the app made', async () => {
    const terminal = `${base}/api/v1/tenants/T1/stores/S1/terminals/1`;
    const created = await call('POST', `${terminal}/carts`);
    expect(created.status).toBe(201);
    const added = await call('POST', `${terminal}/carts/${created.body.cartId}/lineItems`, {
      itemCode: '4901234567890',
      quantity: 1,
    });
    expect(added.status).toBe(201);

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    // Prometheus' text format 0.0.4 (express may reorder the parameters)
    const [type, ...params] = (res.headers.get('content-type') ?? '').split(';').map((p) => p.trim());
    expect(type).toBe('text/plain');
    expect(params.sort()).toEqual(['charset=utf-8', 'version=0.0.4']);
    const text = await res.text();
    expect(text).toContain('# TYPE kugel_comms_requests_total counter');
    expect(text).toContain('kugel_comms_requests_total{service="master-data",method="GET",status_class="2xx"} 1');
    expect(text).toMatch(/kugel_comms_requests_total\{service="dapr",method="POST",status_class="2xx"\} [1-9]/);
    expect(text).toContain('# TYPE kugel_comms_request_duration_seconds histogram');
    expect(text).toMatch(/kugel_comms_circuit_breaker_state\{breaker="state:cartstore"\} 0/);
  });
});
