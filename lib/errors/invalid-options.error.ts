import { isSecretName, redactUrl } from '../common/redact';

const INVALID_OPTIONS_MARKER = Symbol.for('kugel-comms.InvalidOptionsError');

/** Thrown at boot when an option has a bad value. Names the option and the (redacted) value. */
export class InvalidOptionsError extends Error {
  readonly [INVALID_OPTIONS_MARKER] = true;
  override readonly name = 'InvalidOptionsError';

  constructor(
    readonly option: string,
    value: unknown,
    expectation: string,
  ) {
    super(`KugelCommsModule option "${option}" ${expectation}; got ${describeValue(option, value)}`);
  }
}

export function isInvalidOptionsError(error: unknown): error is InvalidOptionsError {
  return typeof error === 'object' && error !== null && INVALID_OPTIONS_MARKER in error;
}

/** The value as shown in the message: hidden when the option's own name says it is a credential. */
function describeValue(option: string, value: unknown): string {
  if (isSecretName(option.split('.').pop() ?? option) && value !== undefined && value !== null && value !== '') {
    return `a ${typeof value} (value hidden)`;
  }
  if (typeof value === 'string') return JSON.stringify(redactUrl(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}
