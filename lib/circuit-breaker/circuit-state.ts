/** The states of a `CircuitBreaker`. Values are the strings reported by health and events. */
export enum CircuitState {
  /** Calls pass; consecutive failures are counted. */
  Closed = 'closed',
  /** Calls are rejected at once, without I/O, until the reset timeout has passed. */
  Open = 'open',
  /** A limited number of trial calls pass; one success closes, one failure re-opens. */
  HalfOpen = 'half_open',
}
