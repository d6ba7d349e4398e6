const loaded = new Map<string, unknown>();

/**
 * An optional peer dependency (prom-client, @opentelemetry/api), loaded with `require()` the first
 * time it is asked for, or `undefined` when the app did not install it. Any other failure to load
 * it (a broken install) is thrown. Loaded lazily so that an app without the package never pays for
 * it and the package's types compile without it.
 */
export function loadOptionalPeer<T>(name: string): T | undefined {
  if (loaded.has(name)) return loaded.get(name) as T | undefined;
  let peer: T | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    peer = require(name) as T;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes(`'${name}'`)) throw error;
    peer = undefined;
  }
  loaded.set(name, peer);
  return peer;
}

/**
 * Whether an optional peer dependency can be found, without loading it (for registering providers
 * that only make sense with it, such as `forFeature`'s `HttpService`s).
 */
export function hasOptionalPeer(name: string): boolean {
  if (loaded.has(name)) return loaded.get(name) !== undefined;
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
