import { Inject } from '@nestjs/common';
import { REPUBLISHER_TOKEN_PREFIX } from '../kugel-comms.constants';

/**
 * The injection token of the republisher registered by `KugelCommsModule.forRepublisher(name, ...)`:
 * `'KUGEL_COMMS:REPUBLISHER:<name>'`. For `moduleRef.get()` and for overriding it in tests.
 */
export function getRepublisherToken(name: string): string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`a republisher token needs a republisher name (a non-empty string); got ${String(name)}`);
  }
  return `${REPUBLISHER_TOKEN_PREFIX}${name}`;
}

/**
 * Injects the `EventRepublisher` registered as `name` (to run a pass now, or read its status). The
 * module must import `KugelCommsModule.forRepublisher(name, ...)` (or `forRepublisherAsync`).
 */
export function InjectRepublisher(name: string): PropertyDecorator & ParameterDecorator {
  return Inject(getRepublisherToken(name));
}
