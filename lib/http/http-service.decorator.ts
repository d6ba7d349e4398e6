import { Inject } from '@nestjs/common';
import { HTTP_SERVICE_TOKEN_PREFIX } from '../kugel-comms.constants';

/**
 * The injection token of a service's `HttpService` (`@nestjs/axios`), as registered by
 * `KugelCommsModule.forFeature([serviceName])` when `@nestjs/axios` is installed:
 * `'KUGEL_COMMS:HTTP_SERVICE:<serviceName>'`. For `moduleRef.get()` and for overriding it in tests.
 */
export function getHttpServiceToken(serviceName: string): string {
  if (typeof serviceName !== 'string' || serviceName === '') {
    throw new TypeError(`an HttpService token needs a service name (a non-empty string); got ${String(serviceName)}`);
  }
  return `${HTTP_SERVICE_TOKEN_PREFIX}${serviceName}`;
}

/**
 * Injects the `HttpService` of `serviceName` (the object `getHttpService(serviceName)` returns):
 * Observables over the service's pooled client. The module must import
 * `KugelCommsModule.forFeature([serviceName])`, and `@nestjs/axios` must be installed.
 *
 * ```ts
 * constructor(@InjectHttpService('master-data') private readonly masterData: HttpService) {}
 * ```
 */
export function InjectHttpService(serviceName: string): PropertyDecorator & ParameterDecorator {
  return Inject(getHttpServiceToken(serviceName));
}
