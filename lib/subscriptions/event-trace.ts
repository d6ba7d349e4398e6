import type * as OtelApi from '@opentelemetry/api';
import { loadOptionalPeer } from '../common/optional-peer';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** Where a handler runs: its span (when OpenTelemetry is installed), ended with the outcome. */
export interface HandlerSpan {
  run<T>(fn: () => T): T;
  end(outcome: string, error?: unknown): void;
}

const NO_SPAN: HandlerSpan = { run: (fn) => fn(), end: () => undefined };

/**
 * A `CONSUMER` span for one delivery whose parent is the event's trace context (`traceparent`,
 * `tracestate`), so the handler — and every call it makes through kugel-comms — continues the
 * publisher's trace. The app's registered propagator extracts first; without one (the API's
 * default extracts nothing) the W3C header is read here. With no tracer provider registered the
 * span is a non-recording one that still carries the parent's ids, so the handler's active span
 * context is the event's. `links` (bulk deliveries) attach each entry's context to the batch span.
 *
 * Without `@opentelemetry/api` installed, handlers simply run.
 */
export function handlerSpan(
  name: string,
  trace: { traceparent?: string; tracestate?: string },
  attributes: Record<string, string>,
  links: Array<{ traceparent?: string; tracestate?: string }> = [],
): HandlerSpan {
  const api = loadOptionalPeer<typeof OtelApi>('@opentelemetry/api');
  if (!api) return NO_SPAN;
  try {
    const parent = extract(api, trace);
    const span = api.trace.getTracer('kugel-comms').startSpan(
      name,
      {
        kind: api.SpanKind.CONSUMER,
        attributes,
        links: links
          .map((l) => api.trace.getSpanContext(extract(api, l)))
          .filter((c): c is OtelApi.SpanContext => c !== undefined && api.trace.isSpanContextValid(c))
          .map((context) => ({ context })),
      },
      parent,
    );
    const ctx = api.trace.setSpan(parent, span);
    return {
      run: (fn) => api.context.with(ctx, fn),
      end: (outcome, error) => {
        try {
          span.setAttribute('kugel.outcome', outcome);
          if (outcome !== 'SUCCESS') {
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome });
            if (error instanceof Error) span.recordException(error);
          }
          span.end();
        } catch {
          // tracing must never change an outcome
        }
      },
    };
  } catch {
    return NO_SPAN;
  }
}

function extract(api: typeof OtelApi, trace: { traceparent?: string; tracestate?: string }): OtelApi.Context {
  const carrier: Record<string, string> = {};
  if (trace.traceparent) carrier.traceparent = trace.traceparent;
  if (trace.tracestate) carrier.tracestate = trace.tracestate;
  const extracted = api.propagation.extract(api.ROOT_CONTEXT, carrier);
  const found = api.trace.getSpanContext(extracted);
  if (found && api.trace.isSpanContextValid(found)) return extracted;
  const m = trace.traceparent?.trim().toLowerCase().match(TRACEPARENT);
  if (!m || m[1] === 'ff') return api.ROOT_CONTEXT;
  const context: OtelApi.SpanContext = {
    traceId: m[2],
    spanId: m[3],
    traceFlags: parseInt(m[4], 16) & 0xff,
    isRemote: true,
  };
  if (trace.tracestate) {
    try {
      context.traceState = api.createTraceState(trace.tracestate);
    } catch {
      // a malformed tracestate is left out
    }
  }
  return api.trace.isSpanContextValid(context) ? api.trace.setSpanContext(api.ROOT_CONTEXT, context) : api.ROOT_CONTEXT;
}
