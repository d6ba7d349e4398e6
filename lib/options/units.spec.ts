import { forgetDeprecationWarnings } from './deprecated-options';
import { resolveOptions } from './resolve-options';
import { warningsDuring as warnings } from '../../test/support/log-capture';

const SECRET = 'a-test-secret-of-at-least-32-bytes-long';

beforeEach(() => forgetDeprecationWarnings());

describe('durations in milliseconds: the options that were in seconds', () => {
  it('repositories.cacheTtlSec is repositories.cacheTtlMs × 1000, with one warning naming both', () => {
    let old: ReturnType<typeof resolveOptions> | undefined;
    const lines = warnings(() => {
      old = resolveOptions({ repositories: { cacheTtlSec: 60 } }, {});
      resolveOptions({ repositories: { cacheTtlSec: 60 } }, {});
    });
    expect(old!.repositories).toEqual(resolveOptions({ repositories: { cacheTtlMs: 60_000 } }, {}).repositories);
    expect(lines).toEqual([
      expect.stringMatching(
        /option repositories\.cacheTtlSec is deprecated .*: use repositories\.cacheTtlMs \(in milliseconds: the old value × 1000\)/,
      ),
    ]);
  });

  it('auth.serviceToken.expiresInSec is expiresInMs × 1000, with one warning naming both', () => {
    let old: ReturnType<typeof resolveOptions> | undefined;
    const lines = warnings(() => {
      old = resolveOptions({ auth: { serviceToken: { secret: SECRET, expiresInSec: 60 } } }, {});
    });
    const now = resolveOptions({ auth: { serviceToken: { secret: SECRET, expiresInMs: 60_000 } } }, {});
    expect(old!.auth).toEqual(now.auth);
    expect(now.auth.serviceToken?.expiresInMs).toBe(60_000);
    expect(lines).toEqual([
      expect.stringMatching(
        /option auth\.serviceToken\.expiresInSec is deprecated .*: use auth\.serviceToken\.expiresInMs/,
      ),
    ]);
  });

  it('the defaults are the same durations: a 300 s cache, a 300 s token', () => {
    const o = resolveOptions({ auth: { serviceToken: { secret: SECRET } } }, {});
    expect(o.repositories.cacheTtlMs).toBe(300_000);
    expect(o.auth.serviceToken?.expiresInMs).toBe(300_000);
  });

  it('an old seconds option beside its new one is refused; a bad old value is refused naming the old option', () => {
    expect(() => resolveOptions({ repositories: { cacheTtlSec: 1, cacheTtlMs: 1000 } }, {})).toThrow(
      /repositories\.cacheTtlSec.*repositories\.cacheTtlMs/,
    );
    expect(() => resolveOptions({ auth: { serviceToken: { secret: SECRET, expiresInSec: 1.5 } } }, {})).toThrow(
      /auth\.serviceToken\.expiresInSec/,
    );
    expect(() => resolveOptions({ auth: { serviceToken: { secret: SECRET, expiresInSec: 3601 } } }, {})).toThrow(
      /auth\.serviceToken\.expiresInMs.*3601000/,
    );
  });
});
