import type { HttpService } from '@nestjs/axios';
import axios, { AxiosError, AxiosHeaders, AxiosInstance, AxiosRequestConfig } from 'axios';
import { loadOptionalPeer } from '../common/optional-peer';
import { flatHeaders, headerFault } from '../input/headers';
import { isPlainData, safeConfig, serviceClientAdapter } from './http-service.adapter';
import { ServiceClient } from './service-client';

type NestAxios = { HttpService: new (instance: AxiosInstance) => HttpService };

/** Where the config is among each request method's arguments (`get(url, config)`, `post(url, data, config)`, ...). */
const CONFIG_ARGUMENT: Record<string, number> = {
  request: 0,
  get: 1,
  delete: 1,
  head: 1,
  options: 1,
  post: 2,
  put: 2,
  patch: 2,
  postForm: 2,
  putForm: 2,
  patchForm: 2,
};

/**
 * An `@nestjs/axios` `HttpService` over `client`: its axios instance has no base URL, no
 * default headers of its own and no transforms but a JSON body's `Content-Type`, and its adapter hands every request to the
 * client (`serviceClientAdapter`), so nothing reaches the network but through the client's call
 * runner. `@nestjs/axios` is an optional peer, loaded here, the first time an `HttpService` is
 * asked for.
 */
export function createHttpService(client: ServiceClient): HttpService {
  const nestAxios = loadOptionalPeer<NestAxios>('@nestjs/axios');
  if (!nestAxios) {
    throw new Error(
      `an HttpService for "${client.name}" needs the optional peer dependency @nestjs/axios (npm install @nestjs/axios)`,
    );
  }
  const instance = axios.create({
    adapter: serviceClientAdapter(client),
    // The client serialises JSON (refusing what JSON cannot carry) and parses answers: axios only
    // labels a JSON or form body, as its own transform does (it would label a JSON body a form).
    transformRequest: [
      (data: unknown, headers: AxiosHeaders) => {
        if (headers.getContentType() || data === undefined || data === null) return data;
        if (data instanceof URLSearchParams) headers.setContentType('application/x-www-form-urlencoded;charset=utf-8');
        else if (isPlainData(data)) headers.setContentType('application/json');
        return data;
      },
    ],
    transformResponse: [],
  });
  // No per-method header groups or `Accept` of axios' own: the request carries the caller's
  // headers only, and the service's client adds its own (as for `ServiceClient` calls).
  instance.defaults.headers = {} as typeof instance.defaults.headers;
  // axios raises some errors itself, before the adapter: a `CanceledError` for a signal or cancel
  // token already aborted carries the live config, the caller's credentials in its headers. Every
  // error leaves with the safe copy instead (the adapter's own errors have it already).
  instance.interceptors.response.use(undefined, (error: unknown) => Promise.reject(withSafeConfig(error)));
  return new nestAxios.HttpService(refusingBadHeaders(instance, client));
}

/**
 * The instance as `HttpService` (and `axiosRef` users) call it, checking the caller's header
 * names and values before axios sees them. axios strips CR and LF from header values as it merges
 * the config (`'a\r\nb'` is sent as `'ab'`), so the adapter never sees them; a `ServiceClient`
 * refuses such a value, and so does this: a rejected promise with the same `AxiosError`
 * (`ERR_BAD_REQUEST_INPUT`) the adapter gives for other bad input, nothing sent.
 */
function refusingBadHeaders(instance: AxiosInstance, client: ServiceClient): AxiosInstance {
  const checked = new Map<string, (...args: unknown[]) => unknown>();
  const check = (method: string, args: unknown[], at: number) => {
    const config = (typeof args[0] === 'string' && at === 0 ? args[1] : args[at]) as AxiosRequestConfig | undefined;
    const url = typeof args[0] === 'string' ? args[0] : (config?.url ?? '');
    const why = firstHeaderFault(config?.headers);
    if (!why) return undefined;
    const verb = (method === 'request' ? (config?.method ?? 'get') : method).toUpperCase();
    const error = new AxiosError(
      `${verb} ${client.name}: ${why}`,
      'ERR_BAD_REQUEST_INPUT',
      safeConfig({ ...config, url }),
    );
    error.cause = client.badInput(verb, url, why);
    error.message = error.cause.message;
    return error;
  };
  return new Proxy(instance, {
    apply(target, thisArg, args: unknown[]) {
      const refused = check('request', args, 0);
      return refused ? Promise.reject(refused) : (Reflect.apply(target, thisArg, args) as unknown);
    },
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !(prop in CONFIG_ARGUMENT) || typeof value !== 'function') return value;
      let wrapper = checked.get(prop);
      if (!wrapper) {
        const at = CONFIG_ARGUMENT[prop];
        const fn = value as (...args: unknown[]) => unknown;
        wrapper = (...args: unknown[]) => {
          const refused = check(prop, args, at);
          return refused ? Promise.reject(refused) : fn(...args);
        };
        checked.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** `error` with its config (and its response's) replaced by the safe copy (`safeConfig`), and no request. */
function withSafeConfig(error: unknown): unknown {
  if (!axios.isAxiosError(error) && !axios.isCancel(error)) return error;
  const e = error as AxiosError;
  if (e.config) e.config = safeConfig(e.config);
  if (e.response) e.response.config = e.config ?? safeConfig(e.response.config);
  e.request = undefined;
  return e;
}

/** What is wrong with a caller's headers (the shared check, `headerFault`), or `undefined`. */
function firstHeaderFault(headers: unknown): string | undefined {
  for (const [name, value] of Object.entries(flatHeaders(headers))) {
    const fault = headerFault(name, value);
    if (fault) return fault;
  }
  return undefined;
}
