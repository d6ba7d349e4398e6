import { Inject } from '@nestjs/common';
import { SERVICE_CLIENT_TOKEN_PREFIX } from '../kugel-comms.constants';

/**
 * The injection token of a service's pooled `ServiceClient`, as registered by
 * `KugelCommsModule.forFeature([serviceName])`: `'KUGEL_COMMS:SERVICE_CLIENT:<serviceName>'`.
 * For `moduleRef.get()` and for overriding the client in tests.
 */
export function getServiceClientToken(serviceName: string): string {
  if (typeof serviceName !== 'string' || serviceName === '') {
    throw new TypeError(`a service client token needs a service name (a non-empty string); got ${String(serviceName)}`);
  }
  return `${SERVICE_CLIENT_TOKEN_PREFIX}${serviceName}`;
}

/**
 * Injects the pooled `ServiceClient` of `serviceName` (the object `getServiceClient(serviceName)`
 * returns). The module must import `KugelCommsModule.forFeature([serviceName])`.
 *
 * ```ts
 * constructor(@InjectServiceClient('master-data') private readonly masterData: ServiceClient) {}
 * ```
 */
export function InjectServiceClient(serviceName: string): PropertyDecorator & ParameterDecorator {
  return Inject(getServiceClientToken(serviceName));
}
