import { context, createTraceState, trace } from '@opentelemetry/api';
import { TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClientHelper } from '../../lib';
import { bootKugelComms } from '../support/module-fixture';
import { installContextManager, installPropagator, newSpanContext, withSpan } from '../support/otel';
import { json, startTestServer, TestServer } from '../support/test-server';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

describe('W3C trace context on outgoing REST calls', () => {
  let server: TestServer;
  let app: TestingModule;
  let flaky = 0;

  beforeAll(async () => {
    server = await startTestServer((req, res) => {
      if (req.url === '/flaky' && flaky++ % 2 === 0) return json(res, 503, {});
      json(res, 200, { ok: true });
    });
    app = await bootKugelComms({ services: { peer: server.url }, http: { backoff: { initialDelayMs: 1 } } });
  });

  afterAll(async () => {
    await app?.close();
    await server?.close();
  });

  const client = () => app.get(HttpClientHelper).getServiceClient('peer');
  const lastHeaders = () => server.requests[server.requests.length - 1].headers;

  it('sends a caller-set traceparent (and tracestate) untouched', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await client().get('/x', { headers: { traceparent, tracestate: 'congo=t61rcWkgMzE' } });
    expect(lastHeaders().traceparent).toBe(traceparent);
    expect(lastHeaders().tracestate).toBe('congo=t61rcWkgMzE');
    // any case of the header name counts as set by the caller
    await client().get('/x', { headers: { TraceParent: traceparent } });
    expect(lastHeaders().traceparent).toBe(traceparent);
  });

  it('adds nothing when no span is active', async () => {
    await client().get('/x');
    expect(lastHeaders().traceparent).toBeUndefined();
    expect(lastHeaders().tracestate).toBeUndefined();
  });

  describe('with an OpenTelemetry context manager and an active span', () => {
    let uninstall: () => void;
    beforeAll(() => {
      uninstall = installContextManager();
    });
    afterAll(() => uninstall());

    it('formats traceparent and tracestate from the active span context, across awaits', async () => {
      const span = { ...newSpanContext(), traceState: createTraceState('vendor=abc,other=1') };
      await withSpan(span, async () => {
        await sleep(5);
        await client().get('/x');
      });
      expect(lastHeaders().traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
      expect(lastHeaders().tracestate).toBe('vendor=abc,other=1');
    });

    it('keeps the flags of an unsampled span and sends no tracestate when the span has none', async () => {
      const span = { ...newSpanContext(), traceFlags: 0 };
      await withSpan(span, () => client().get('/x'));
      expect(lastHeaders().traceparent).toBe(`00-${span.traceId}-${span.spanId}-00`);
      expect(lastHeaders().tracestate).toBeUndefined();
    });

    it('sends the same traceparent on every attempt of a retried call', async () => {
      const before = server.requests.length;
      flaky = 0;
      const span = newSpanContext();
      await withSpan(span, () => client().get('/flaky'));
      const attempts = server.requests.slice(before);
      expect(attempts.map((r) => r.url)).toEqual(['/flaky', '/flaky']);
      for (const a of attempts) expect(a.headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
    });

    it('leaves a caller-set traceparent alone even with an active span', async () => {
      const traceparent = '00-11111111111111111111111111111111-2222222222222222-01';
      await withSpan({ ...newSpanContext(), traceState: createTraceState('a=b') }, () =>
        client().get('/x', { headers: { traceparent } }),
      );
      expect(lastHeaders().traceparent).toBe(traceparent);
      expect(lastHeaders().tracestate).toBeUndefined();
    });

    it('gives each concurrent call the trace of its own context', async () => {
      const spans = [newSpanContext(), newSpanContext(), newSpanContext()];
      const before = server.requests.length;
      await Promise.all(spans.map((span, i) => withSpan(span, () => client().get(`/c${i}`))));
      const got = server.requests.slice(before);
      for (const [i, span] of spans.entries()) {
        expect(got.find((r) => r.url === `/c${i}`)?.headers.traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
      }
    });

    it('ignores an invalid span context', async () => {
      await withSpan({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 }, () => client().get('/x'));
      expect(lastHeaders().traceparent).toBeUndefined();
    });

    it('uses the propagator the app registered (its headers, not ours)', async () => {
      const remove = installPropagator();
      try {
        const span = { ...newSpanContext(), traceState: createTraceState('vendor=abc') };
        await withSpan(span, () => client().get('/x'));
        expect(lastHeaders().traceparent).toMatch(TRACEPARENT);
        expect(lastHeaders().traceparent).toBe(`00-${span.traceId}-${span.spanId}-01`);
        expect(lastHeaders().baggage).toBe('tenant=T1');
        // the test propagator writes no tracestate, and kugel-comms does not add one behind it
        expect(lastHeaders().tracestate).toBeUndefined();
      } finally {
        remove();
      }
    });

    it('adds nothing when tracing.propagate is false', async () => {
      const off = await bootKugelComms({
        services: { peer: server.url },
        tracing: { propagate: false },
      });
      try {
        await withSpan(newSpanContext(), () => off.get(HttpClientHelper).getServiceClient('peer').get('/x'));
        expect(lastHeaders().traceparent).toBeUndefined();
      } finally {
        await off.close();
      }
    });
  });

  it('without a context manager, context.with() activates nothing, so nothing is added', async () => {
    // The OpenTelemetry API's default context manager keeps no context: an app must register one
    // (the SDK does). This is the API's behaviour, checked so docs/operations.md's statement stays true.
    const span = newSpanContext();
    await context.with(trace.setSpanContext(context.active(), span), () => client().get('/x'));
    expect(lastHeaders().traceparent).toBeUndefined();
  });
});
