import { isSecretName, redactUrl } from './redact';

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

  it('hides the userinfo of an absolute URL', () => {
    expect(redactUrl('http://user:pw@h:1/x?sid=1&side=2')).toBe('http://***@h:1/x?sid=***&side=2');
  });
});

describe('isSecretName (one rule for query parameters and option names)', () => {
  it.each(['apiKey', 'dapr.apiToken', 'secret', 'X-API-KEY', 'password', 'sid', 'session_id', 'authorization'])(
    '%s holds a credential',
    (name) => expect(isSecretName(name)).toBe(true),
  );
  it.each(['waitForSidecarMs', 'terminal_id', 'code', 'timeoutMs', 'inside'])('%s does not', (name) =>
    expect(isSecretName(name)).toBe(false),
  );
});
