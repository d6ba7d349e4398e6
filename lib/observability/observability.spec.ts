import { Registry } from 'prom-client';
import { CircuitBreakerRegistry } from '../circuit-breaker/circuit-breaker.registry';
import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { KugelCommsModuleOptions } from '../interfaces/kugel-comms-options.interface';
import { DEFAULTS } from '../options/defaults';
import { resolveOptions } from '../options/resolve-options';
import { KugelCommsEvents } from '../kugel-comms.events';
import { statusClass } from './comms-metrics.service';

function optionError(options: KugelCommsModuleOptions): string {
  try {
    resolveOptions(options, {});
  } catch (error) {
    if (!isInvalidOptionsError(error)) throw error;
    return error.message;
  }
  throw new Error('resolveOptions accepted the options');
}

describe('metrics and tracing options', () => {
  it('defaults to metrics off with the kugel_comms_ prefix, and to trace propagation on', () => {
    const o = resolveOptions({}, {});
    expect(o.metrics).toEqual({
      enabled: false,
      prefix: 'kugel_comms_',
      registry: undefined,
      buckets: [...DEFAULTS.metrics.buckets],
    });
    expect(o.tracing).toEqual({ propagate: true });
  });

  it('keeps a given registry, prefix and buckets', () => {
    const registry = new Registry();
    const o = resolveOptions(
      {
        metrics: { enabled: true, registry, prefix: '', buckets: [0.1, 1] },
        tracing: { propagate: false },
      },
      {},
    );
    expect(o.metrics.registry).toBe(registry);
    expect(o.metrics).toMatchObject({ enabled: true, prefix: '', buckets: [0.1, 1] });
    expect(o.tracing.propagate).toBe(false);
  });

  it.each([
    [{ metrics: { enabled: 'yes' } }, 'KugelCommsModule option "metrics.enabled" must be true or false; got "yes"'],
    [
      { metrics: { prefix: 'kugel-comms' } },
      'option "metrics.prefix" must be a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*) or ""; got "kugel-comms"',
    ],
    [{ metrics: { prefix: '1x_' } }, 'option "metrics.prefix"'],
    [
      { metrics: { buckets: [1, 0.5] } },
      'option "metrics.buckets" must be a non-empty array of increasing numbers > 0 (seconds); got [1,0.5]',
    ],
    [{ metrics: { buckets: [] } }, 'option "metrics.buckets"'],
    [{ metrics: { buckets: [0, 1] } }, 'option "metrics.buckets"'],
    [
      { metrics: { registry: {} } },
      'option "metrics.registry" must be a prom-client Registry; got "[an object that is not a Registry]"',
    ],
    [{ metrics: { registry: 'global' } }, 'option "metrics.registry" must be a prom-client Registry; got "global"'],
    [{ metrics: 'on' }, 'option "metrics" must be an object; got "on"'],
    [{ tracing: { propagate: 1 } }, 'option "tracing.propagate" must be true or false; got 1'],
  ])('refuses %j naming the option and the value', (options, message) => {
    expect(optionError(options as unknown as KugelCommsModuleOptions)).toContain(message);
  });
});

describe('status_class', () => {
  it.each([
    [{ status: 200, outcome: 'success' }, '2xx'],
    [{ status: 304, outcome: 'success' }, '3xx'],
    [{ status: 404, outcome: 'error' }, '4xx'],
    [{ status: 503, outcome: 'error' }, '5xx'],
    [{ status: undefined, outcome: 'error' }, 'error'],
    [{ status: undefined, outcome: 'rejected' }, 'rejected'],
  ] as const)('%j → %s', (event, expected) => {
    expect(statusClass(event)).toBe(expected);
  });
});

describe('optional peers', () => {
  afterEach(() => {
    jest.dontMock('prom-client');
    jest.dontMock('@opentelemetry/api');
  });

  /** A `require` of a package that is not installed, as Node reports it. */
  const notInstalled = (name: string) => () => {
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  };

  function newMetricsService(metrics: KugelCommsModuleOptions['metrics']) {
    // A fresh module graph, so that the mock below is what `require('prom-client')` finds.
    let service: { enabled: boolean } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { KugelCommsMetrics } = require('./comms-metrics.service') as typeof import('./comms-metrics.service');
      const events = new KugelCommsEvents();
      service = new KugelCommsMetrics(
        resolveOptions({ metrics }, {}),
        events,
        events,
        new CircuitBreakerRegistry(events),
      );
    });
    return service!;
  }

  it('fails at boot with an install hint when metrics are enabled and prom-client is missing', () => {
    jest.doMock('prom-client', notInstalled('prom-client'));
    expect(() => newMetricsService({ enabled: true })).toThrow(
      new Error('metrics.enabled needs the prom-client package: npm i prom-client'),
    );
  });

  it('never loads prom-client when metrics are off', () => {
    const loaded = jest.fn(() => ({}));
    jest.doMock('prom-client', loaded);
    expect(newMetricsService({ enabled: false }).enabled).toBe(false);
    expect(newMetricsService(undefined).enabled).toBe(false);
    expect(loaded).not.toHaveBeenCalled();
  });

  it('adds no trace headers (and does not throw) when @opentelemetry/api is missing', () => {
    jest.doMock('@opentelemetry/api', notInstalled('@opentelemetry/api'));
    jest.isolateModules(() => {
      type TraceContext = typeof import('../transport/trace-context');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { activeTraceHeaders } = require('../transport/trace-context') as TraceContext;
      expect(activeTraceHeaders()).toBeUndefined();
      expect(activeTraceHeaders()).toBeUndefined();
    });
  });

  it('formats the W3C headers from the active span without a registered propagator', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
      type TraceContext = typeof import('../transport/trace-context');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { activeTraceHeaders } = require('../transport/trace-context') as TraceContext;
      // A context manager that always reports one fixed context: enough for a synchronous check.
      const span = {
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        traceFlags: 1,
        traceState: api.createTraceState('k=v'),
      };
      const active = api.trace.setSpanContext(api.ROOT_CONTEXT, span);
      api.context.setGlobalContextManager({
        active: () => active,
        with: (_c, fn, thisArg, ...args) => fn.call(thisArg, ...args),
        bind: (_c, target) => target,
        enable() {
          return this;
        },
        disable() {
          return this;
        },
      });
      try {
        expect(activeTraceHeaders()).toEqual({
          traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
          tracestate: 'k=v',
        });
      } finally {
        api.context.disable();
      }
    });
  });
});
