import {
  Attributes,
  AttributeValue,
  Context,
  context,
  Link,
  Span,
  SpanOptions,
  SpanStatus,
  Tracer,
  TracerProvider,
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

/** A span as the recording tracer saw it start (and end). */
export interface RecordedSpan {
  name: string;
  /** The span context of the parent context given to `startSpan`, if any. */
  parent?: SpanContext;
  context: SpanContext;
  attributes: Attributes;
  links: Link[];
  status?: SpanStatus;
  ended: boolean;
}

class RecordingSpan implements Span {
  constructor(private readonly record: RecordedSpan) {}
  spanContext(): SpanContext {
    return this.record.context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(link: Link): this {
    this.record.links.push(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.record.links.push(...links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(): void {}
}

/**
 * A tracer provider standing in for the SDK's: every span gets a fresh span id under its parent's
 * trace id (or a new trace), and is recorded with its parent.
 */
export class RecordingTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    const start = (name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span => {
      const parent = trace.getSpanContext(ctx);
      const record: RecordedSpan = {
        name,
        parent,
        context: {
          traceId: parent && trace.isSpanContextValid(parent) ? parent.traceId : randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          traceFlags: TraceFlags.SAMPLED,
        },
        attributes: { ...options.attributes },
        links: [...(options.links ?? [])],
        ended: false,
      };
      this.spans.push(record);
      return new RecordingSpan(record);
    };
    return {
      startSpan: start,
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest.pop() as (span: Span) => unknown;
        const span = start(name, rest[0] as SpanOptions | undefined, rest[1] as Context | undefined);
        return context.with(trace.setSpan(context.active(), span), () => fn(span));
      }) as Tracer['startActiveSpan'],
    };
  }
}

/** Installs a `RecordingTracerProvider` globally; call the returned function to remove it. */
export function installTracerProvider(): { provider: RecordingTracerProvider; uninstall: () => void } {
  const provider = new RecordingTracerProvider();
  trace.setGlobalTracerProvider(provider);
  return { provider, uninstall: () => trace.disable() };
}
