import {
  Context,
  context,
  ContextManager,
  propagation,
  ROOT_CONTEXT,
  SpanContext,
  TextMapPropagator,
  TextMapSetter,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * A context manager on `AsyncLocalStorage`, standing in for the SDK's (the tests do not install
 * `@opentelemetry/context-async-hooks`): the active context follows awaits, timers and sockets.
 */
export class TestContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = <R>(fn: () => R): R => this.with(ctx, fn);
    return function (this: unknown, ...args: unknown[]) {
      return run(() => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }
}

/**
 * A propagator as an app's SDK would register, writing `traceparent` and a fixed `baggage` header
 * (so tests can tell its output from kugel-comms' own formatting).
 */
export class TestPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (!span || !trace.isSpanContextValid(span)) return;
    setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
    setter.set(carrier, 'baggage', 'tenant=T1');
  }

  extract(ctx: Context): Context {
    return ctx;
  }

  fields(): string[] {
    return ['traceparent', 'baggage'];
  }
}

/** A fresh, valid, sampled span context. */
export function newSpanContext(): SpanContext {
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/** Runs `fn` with `span` as the active span context. */
export function withSpan<T>(span: SpanContext, fn: () => T): T {
  return context.with(trace.setSpanContext(context.active(), span), fn);
}

/** Installs the test context manager globally (per test file: jest gives each file its own globals). */
export function installContextManager(): () => void {
  const manager = new TestContextManager();
  context.setGlobalContextManager(manager);
  return () => context.disable();
}

export function installPropagator(): () => void {
  propagation.setGlobalPropagator(new TestPropagator());
  return () => propagation.disable();
}
