// Types only: @opentelemetry/api is an optional peer, loaded with require() on first use.
import type * as OtelApi from '@opentelemetry/api';

/** `undefined`: not looked for yet; `null`: not installed. */
let otel: typeof OtelApi | null | undefined;

/** `@opentelemetry/api` when installed (loaded once), else `null`. */
export function loadOtel(): typeof OtelApi | null {
  if (otel === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      otel = require('@opentelemetry/api') as typeof OtelApi;
    } catch {
      otel = null;
    }
  }
  return otel;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

/**
 * The headers that carry the active OpenTelemetry context to a peer, or `undefined` when
 * `@opentelemetry/api` is not installed or no valid span context is active.
 *
 * The app's registered propagator (`propagation.setGlobalPropagator`, e.g. the SDK's
 * `W3CTraceContextPropagator`, possibly composed with baggage or B3) injects first; when it did not
 * write a `traceparent` (no propagator registered: the API's default one injects nothing), the
 * W3C headers are formatted here from the active span context:
 * `traceparent: 00-<trace id>-<span id>-<flags>` and `tracestate` when the span has one.
 *
 * The active context is only ever set when the app registered a context manager (the SDK does;
 * without one, `context.active()` is always the empty root context and nothing is added).
 */
export function activeTraceHeaders(): Record<string, string> | undefined {
  const api = loadOtel();
  if (!api) return undefined;
  try {
    const active = api.context.active();
    const carrier: Record<string, unknown> = {};
    api.propagation.inject(active, carrier);
    if (typeof carrier.traceparent !== 'string') {
      const span = api.trace.getSpanContext(active);
      if (span && api.trace.isSpanContextValid(span)) {
        carrier.traceparent = `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
        const state = span.traceState?.serialize();
        if (state) carrier.tracestate = state;
      }
    }
    let out: Record<string, string> | undefined;
    for (const [name, value] of Object.entries(carrier)) {
      // A propagator's output is sent only when it is a valid header.
      if (typeof value !== 'string' || !HEADER_NAME.test(name) || BAD_HEADER_VALUE.test(value)) continue;
      (out ??= {})[name] = value;
    }
    return out;
  } catch {
    // Tracing must never break a call.
    return undefined;
  }
}
