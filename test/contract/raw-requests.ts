import axios, { AxiosAdapter } from 'axios';
import { parsed, RawAnswer } from './contract-target';

type Method = 'GET' | 'POST' | 'DELETE';

/** Raw requests to a real sidecar at `endpoint`; a dropped connection is `status: 0`. */
export function rawOverHttp(endpoint: string) {
  return async (method: Method, path: string, body?: string, contentType = 'application/json'): Promise<RawAnswer> => {
    try {
      const res = await fetch(`${endpoint}${path}`, { method, body, headers: { 'content-type': contentType } });
      return { status: res.status, body: parsed(await res.text()) };
    } catch {
      return { status: 0, body: undefined };
    }
  };
}

/** Raw requests to the in-memory sidecar's adapter (what the testing module's clients send through). */
export function rawInMemory(adapter: AxiosAdapter) {
  return async (method: Method, path: string, body?: string, contentType = 'application/json'): Promise<RawAnswer> => {
    try {
      const res = await axios.request<string>({
        adapter,
        method,
        url: path,
        data: body,
        headers: { 'content-type': contentType },
        responseType: 'text',
        transformResponse: (data: string) => data,
        validateStatus: () => true,
      });
      return { status: res.status, body: parsed(res.data) };
    } catch (error) {
      if ((error as { code?: string }).code === 'ECONNRESET') return { status: 0, body: undefined };
      throw error;
    }
  };
}
