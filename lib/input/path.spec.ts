import { isHttpClientError } from '../errors/http-client.error';
import { encodePathSegment, pathOf } from './path';

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
    expect((error as Error).message).toMatch(/cannot be used as a path segment/);
  });

  it('refuses non-finite numbers and other types', () => {
    expect(() => encodePathSegment(Number.NaN)).toThrow(/not a finite number/);
    expect(() => encodePathSegment({} as unknown as string)).toThrow(/is a object/);
  });

  it('pathOf encodes every interpolated value', () => {
    expect(pathOf`/tenants/${'t 1'}/items/${'a/b?c'}/details`).toBe('/tenants/t%201/items/a%2Fb%3Fc/details');
    expect(pathOf`/terminals/${42}`).toBe('/terminals/42');
  });
});
