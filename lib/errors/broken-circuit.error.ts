const BROKEN_CIRCUIT_MARKER = Symbol.for('kugel-comms.BrokenCircuitError');

/** A call rejected by an open (or saturated half-open) breaker; no I/O was done. */
export class BrokenCircuitError extends Error {
  readonly [BROKEN_CIRCUIT_MARKER] = true;
  override readonly name = 'BrokenCircuitError';
  /** Stable code, as Node and axios errors carry one. */
  readonly code = 'ERR_CIRCUIT_OPEN';

  constructor(
    readonly breaker: string,
    readonly retryAt?: number,
  ) {
    super(`circuit "${breaker}" is open: call rejected without I/O`);
  }
}

export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return typeof error === 'object' && error !== null && BROKEN_CIRCUIT_MARKER in error;
}
