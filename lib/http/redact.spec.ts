import { redactUrl } from './redact';

describe('redactUrl', () => {
  it('hides the values of query parameters that look like credentials', () => {
    expect(redactUrl('/x?api_key=k1&jwt=eyJ&pwd=p&credential=c&session_id=s&code=ok')).toBe(
      '/x?api_key=***&jwt=***&pwd=***&credential=***&session_id=***&code=ok',
    );
    expect(redactUrl('/x?X-API-KEY=1&access_token=2&password=3&terminal_id=T1')).toBe(
      '/x?X-API-KEY=***&access_token=***&password=***&terminal_id=T1',
    );
  });

  it('leaves a URL without a query alone', () => {
    expect(redactUrl('/tenants/T1/items/4901')).toBe('/tenants/T1/items/4901');
  });
});
