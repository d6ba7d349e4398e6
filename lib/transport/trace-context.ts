// Types only: @opentelemetry/api is an optional peer, loaded on first use.
import type * as OtelApi from '@opentelemetry/api';
import { loadOptionalPeer } from '../common/optional-peer';
import { headerFault } from '../input/headers';

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
  try {
    const api = loadOptionalPeer<typeof OtelApi>('@opentelemetry/api');
    if (!api) return undefined;
    const active = api.context.active();
    // No context manager registered (or no context entered): nothing to propagate.
    if (active === api.ROOT_CONTEXT) return undefined;
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
      if (headerFault(name, value) !== undefined) continue;
      (out ??= {})[name] = value as string;
    }
    return out;
  } catch {
    // Tracing must never break a call.
    return undefined;
  }
}
