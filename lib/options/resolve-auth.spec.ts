import { generateKeyPairSync } from 'node:crypto';
import { isInvalidOptionsError } from '../errors/invalid-options.error';
import { resolveOptions } from './resolve-options';

/** The whole boot-time resolution, as the module runs it. */
const resolveAuth = (auth: object) => resolveOptions({ auth } as never, {}).auth;

const pem = (key: { export(o: { type: 'pkcs8' | 'spki'; format: 'pem' }): string | Buffer }, type: 'pkcs8' | 'spki') =>
  String(key.export({ type, format: 'pem' }));
const rsa = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits });
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });

/** The `InvalidOptionsError` resolving `serviceToken` throws. */
function refusal(serviceToken: Record<string, unknown>): Error {
  try {
    resolveAuth({ serviceToken });
  } catch (error) {
    expect(isInvalidOptionsError(error)).toBe(true);
    return error as Error;
  }
  throw new Error('the options were taken');
}

describe('auth.serviceToken is proven at boot', () => {
  const rsa2048 = rsa(2048);
  const p256 = ec('prime256v1');

  it.each([
    ['HS256', 31],
    ['HS384', 47],
    ['HS512', 63],
  ])(
    'an %s secret shorter than the hash (%i bytes) is refused, naming the option, the value hidden',
    (algorithm, bytes) => {
      const secret = 's'.repeat(bytes);
      const error = refusal({ secret, algorithm });
      expect(error.message).toContain('"auth.serviceToken.secret" must be at least');
      expect(error.message).toContain(`bytes for ${algorithm}`);
      expect(error.message).not.toContain(secret);
      expect(() =>
        resolveAuth({ serviceToken: { secret: `${secret}s`, algorithm: algorithm as 'HS256' } }),
      ).not.toThrow();
    },
  );

  it("'x' is no HS256 secret; the length is counted in bytes (UTF-8)", () => {
    expect(refusal({ secret: 'x' }).message).toMatch(/at least 32 bytes for HS256/);
    expect(() => resolveAuth({ serviceToken: { secret: 'ü'.repeat(16) } })).not.toThrow();
  });

  it.each([
    [
      'a shared secret for RS256',
      () => ({ secret: 'not-a-pem-key-'.repeat(6), algorithm: 'RS256' }),
      /RSA key of at least 2048 bits for RS256/,
    ],
    [
      'a public key for RS256',
      () => ({ secret: pem(rsa2048.publicKey, 'spki'), algorithm: 'RS256' }),
      /for RS256: signing a token with it failed/,
    ],
    [
      'a 1024-bit RSA key',
      () => ({ secret: pem(rsa(1024).privateKey, 'pkcs8'), algorithm: 'RS256' }),
      /at least 2048 bits/,
    ],
    [
      'a P-256 key for ES384',
      () => ({ secret: pem(p256.privateKey, 'pkcs8'), algorithm: 'ES384' }),
      /curve P-384 for ES384/,
    ],
    [
      'an RSA key for HS256',
      () => ({ secret: pem(rsa2048.privateKey, 'pkcs8'), algorithm: 'HS256' }),
      /a shared secret for HS256/,
    ],
  ])(
    'a key that does not fit the algorithm (%s) is refused: one token is signed at boot',
    (_what, options, message) => {
      const o = options();
      const error = refusal(o);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(o.secret.slice(0, 40));
      expect(error.message).not.toContain('BEGIN');
    },
  );

  it('fitting keys pass: RSA 2048 for RS256, P-256 for ES256', () => {
    expect(
      resolveAuth({ serviceToken: { secret: pem(rsa2048.privateKey, 'pkcs8'), algorithm: 'RS256' } }).serviceToken,
    ).toMatchObject({ algorithm: 'RS256' });
    expect(
      resolveAuth({ serviceToken: { secret: pem(p256.privateKey, 'pkcs8'), algorithm: 'ES256' } }).serviceToken,
    ).toMatchObject({ algorithm: 'ES256' });
  });

  it.each([
    ['issuer', 42],
    ['issuer', ''],
  ])('auth.serviceToken.%s %j (not a non-empty string) is refused', (name, value) => {
    const error = refusal({ secret: 's'.repeat(32), [name]: value });
    expect(error.message).toContain(`"auth.serviceToken.${name}" must be a non-empty string`);
  });

  it.each([['cart'], [['a', 'b']]])('auth.serviceToken.audience %j is refused whatever it is (tokens get one per call)', (value) => {
    const error = refusal({ secret: 's'.repeat(32), audience: value } as never);
    expect(error.message).toContain('"auth.serviceToken.audience"');
    expect(error.message).toContain('is not an option');
  });
});
