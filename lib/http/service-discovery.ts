import { HttpClientError } from '../errors/http-client.error';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { ResolvedKugelCommsOptions, ResolvedServiceOptions } from '../options/resolved-options.interface';
import { resolveService } from '../options/resolve-transport';
import { envValue, SERVICE_NAME } from '../options/validators';
import { encodePathSegment } from '../input/path';

export interface ServiceTarget {
  options: ResolvedServiceOptions;
  /** Where the base URL came from. */
  source: 'options' | 'env' | 'dapr';
  /** Headers every call to this target carries (the sidecar token for Dapr invocation). */
  headers?: Record<string, string>;
}

/** `master-data` → `BASE_URL_MASTER_DATA` (upper case, `-` and `.` → `_`). */
export function envVariableFor(serviceName: string): string {
  return `BASE_URL_${serviceName.toUpperCase().replace(/[-.]/g, '_')}`;
}

/**
 * Resolves a service name, in order: `options.services[name]`, then `BASE_URL_<NAME>`, then (when
 * `dapr.serviceInvocation` is on) Dapr service invocation. Exact names only, never a substring.
 */
export function discoverService(
  name: string,
  options: ResolvedKugelCommsOptions,
  env: NodeJS.ProcessEnv = process.env,
): ServiceTarget {
  if (typeof name !== 'string' || !SERVICE_NAME.test(name)) {
    throw unknownService(
      String(name),
      `service name ${JSON.stringify(String(name))} is not valid (letters, digits, ".", "_", "-")`,
    );
  }
  if (Object.prototype.hasOwnProperty.call(options.services, name)) {
    return { options: options.services[name], source: 'options' };
  }
  const variable = envVariableFor(name);
  const fromEnv = envValue(env, variable);
  if (fromEnv !== undefined) {
    try {
      return { options: resolveService(name, fromEnv, options.http, variable), source: 'env' };
    } catch (error) {
      throw unknownService(name, (error as InvalidOptionsError).message);
    }
  }
  if (options.dapr.serviceInvocation) {
    const baseUrl = `${options.dapr.httpEndpoint}/v1.0/invoke/${encodePathSegment(name)}/method`;
    return {
      options: resolveService(name, baseUrl, options.http),
      source: 'dapr',
      headers: options.dapr.apiToken ? { 'dapr-api-token': options.dapr.apiToken } : undefined,
    };
  }
  throw unknownService(
    name,
    `unknown service "${name}": set KugelCommsModule option services["${name}"] or the environment variable ${variable}` +
      ' (or turn on dapr.serviceInvocation)',
  );
}

function unknownService(name: string, message: string): HttpClientError {
  return new HttpClientError(message, {
    service: name,
    method: '-',
    url: '-',
    attempts: 0,
    code: 'ERR_UNKNOWN_SERVICE',
  });
}
