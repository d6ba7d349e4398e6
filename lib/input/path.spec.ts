import { isHttpClientError } from '../errors/http-client.error';
import { checkRelativePath, encodePathSegment, pathOf, segment } from './path';

describe('encodePathSegment / pathOf', () => {
  it.each([
    ['../x?y#z', '..%2Fx%3Fy%23z'],
    ['%2F', '%252F'],
    ['a/b', 'a%2Fb'],
    ['a b+c', 'a%20b%2Bc'],
    ['コード', '%E3%82%B3%E3%83%BC%E3%83%89'],
    ['item-01_.~', 'item-01_.~'],
  ])('encodes %j as one segment', (value, encoded) => {
    expect(encodePathSegment(value)).toBe(encoded);
    expect(decodeURIComponent(encoded)).toBe(value);
  });

  it.each(['', '.', '..'])('refuses %j', (value) => {
    let error: unknown;
    try {
      encodePathSegment(value);
    } catch (e) {
      error = e;
    }
    expect(isHttpClientError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERR_BAD_REQUEST_INPUT', attempts: 0, method: '-', url: '-' });
    expect((error as Error).message).toMatch(/cannot be used as a path segment/);
  });

  it('says why a value is refused, showing at most 40 characters of it', () => {
    expect(() => segment('')).toThrow('path value "" is empty: it cannot be used as a path segment');
    expect(() => segment('..')).toThrow('path value ".." is a dot segment: it cannot be used as a path segment');
    const forty = `${'a'.repeat(39)}\uD800`;
    expect(() => segment(forty)).toThrow(`path value "${'a'.repeat(39)}\\ud800" is not valid Unicode text`);
    expect(() => segment(`${'b'.repeat(40)}\uD800`)).toThrow(
      `path value "${'b'.repeat(40)}…" is not valid Unicode text`,
    );
  });

  it('refuses a lone UTF-16 surrogate (it cannot be percent-encoded)', () => {
    expect(() => encodePathSegment('a\uDC00')).toThrow(/not valid Unicode text/);
  });

  it('takes finite numbers as their decimal text', () => {
    expect(encodePathSegment(0)).toBe('0');
    expect(encodePathSegment(-1.5)).toBe('-1.5');
    expect(() => encodePathSegment(Number.POSITIVE_INFINITY)).toThrow(/"Infinity" is not a finite number/);
  });

  it('refuses non-finite numbers and other types', () => {
    expect(() => encodePathSegment(Number.NaN)).toThrow(/not a finite number/);
    expect(() => encodePathSegment({} as unknown as string)).toThrow(/is a object, not a string or number/);
    expect(() => encodePathSegment(undefined as unknown as string)).toThrow(/"undefined" is a undefined/);
  });

  it('pathOf encodes every interpolated value', () => {
    expect(pathOf`/tenants/${'t 1'}/items/${'a/b?c'}/details`).toBe('/tenants/t%201/items/a%2Fb%3Fc/details');
    expect(pathOf`/terminals/${42}`).toBe('/terminals/42');
    expect(pathOf`${'a'}${'b'}`).toBe('ab');
    expect(pathOf`/health`).toBe('/health');
  });
});

describe('checkRelativePath', () => {
  it.each([
    ['items/1', '/items/1'],
    ['/items/1?q=a&b=..', '/items/1?q=a&b=..'],
    ['', ''],
    ['/v1.0/.well-known/..a/b..', '/v1.0/.well-known/..a/b..'],
    ['/a/.../b', '/a/.../b'],
    ['/items/x:y', '/items/x:y'],
    ['/!$&()*+,;=~', '/!$&()*+,;=~'],
  ])('takes %j as %j', (path, checked) => expect(checkRelativePath(path)).toBe(checked));

  it.each([
    'http://h/x',
    'HTTPS://h/x',
    'svn+ssh://h/x',
    'web.dav-2://h/x',
    'javascript:alert(1)',
    'mailto:a@b',
    'items:batch',
    '//evil.example/x',
    '\\evil.example\\x',
  ])('refuses the absolute URL %j', (path) =>
    expect(() => checkRelativePath(path)).toThrow('path must be relative to the service base URL'),
  );

  it.each(['/a b', '/a\tb', '/a\nb', '/a#frag', '/a\\b', '/caf\u00e9', '/a\u0000b', '/a\u007fb', '/a\u0080b'])(
    'refuses %j (whitespace, "#", "\\", control or non-ASCII characters)',
    (path) => expect(() => checkRelativePath(path)).toThrow(/contains whitespace, "#", "\\", control or non-ASCII/),
  );

  it.each([
    '.',
    '..',
    './x',
    '../x',
    '/a/./b',
    '/a/../b',
    '/a/..',
    '/a/.?q=1',
    '/a/..?q=1',
    '/%2e%2e/x',
    '/%2E/x',
    '/.%2e/x',
  ])('refuses the dot segment in %j', (path) =>
    expect(() => checkRelativePath(path)).toThrow('path contains a "." or ".." segment'),
  );

  it('refuses what is not a string, naming its type', () => {
    expect(() => checkRelativePath(42)).toThrow('path must be a string, got number');
    expect(() => checkRelativePath(undefined)).toThrow('path must be a string, got undefined');
  });
});
