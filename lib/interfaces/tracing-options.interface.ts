/** W3C Trace Context (`traceparent`, `tracestate`) on outgoing REST and sidecar calls (`tracing.*`). */
export interface TracingOptions {
  /**
   * Add the active OpenTelemetry context's `traceparent`/`tracestate` to every outgoing call when
   * `@opentelemetry/api` is installed and a span is active. A `traceparent` the caller sets is
   * always sent untouched.
   * @default true
   */
  propagate?: boolean;
}
