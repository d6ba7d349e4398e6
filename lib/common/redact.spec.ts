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

  it('hides the signature of a SAS token and keeps its other fields', () => {
    expect(redactUrl('https://acct.blob.example/c/b.txt?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig=AbC%2Bd%3D')).toBe(
      'https://acct.blob.example/c/b.txt?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig=***',
    );
  });

  it('reads a fragment like a query: its secret-named values hidden, the rest kept', () => {
    expect(redactUrl('https://h/api/v1#access_token=eyJ&token_type=bearer&expires_in=3600')).toBe(
      'https://h/api/v1#access_token=***&token_type=***&expires_in=3600',
    );
    expect(redactUrl('/x?api_key=k&page=2#id_token=t&state=s')).toBe('/x?api_key=***&page=2#id_token=***&state=s');
    expect(redactUrl('http://u:p@h/x#jwt=a')).toBe('http://***@h/x#jwt=***');
    // A "?" inside the fragment belongs to the fragment.
    expect(redactUrl('/x#a?token=t')).toBe('/x#a?token=***');
    expect(redactUrl('/docs#section-2')).toBe('/docs#section-2');
  });

  it('redacts a query that is the whole reference', () => {
    expect(redactUrl('?token=abc&page=2')).toBe('?token=***&page=2');
  });

  it('judges the name, not the value: a non-secret name keeps a value that reads like one', () => {
    expect(redactUrl('/login?next=/auth/session&scope=token&q=a=b')).toBe(
      '/login?next=/auth/session&scope=token&q=a=b',
    );
  });

  it('judges a percent-encoded name by what it decodes to', () => {
    expect(redactUrl('/x?to%6Ben=abc&%73ig=def&p%61ge=2')).toBe('/x?to%6Ben=***&%73ig=***&p%61ge=2');
  });

  it('judges a name that cannot be decoded as written', () => {
    expect(redactUrl('/x?api_key%=1&page%=2')).toBe('/x?api_key%=***&page%=2');
  });

  it('leaves a parameter without a value as it is', () => {
    expect(redactUrl('/x?verbose&password&token=t')).toBe('/x?verbose&password&token=***');
  });
});

describe('isSecretName (one rule for query parameters and option names)', () => {
  // Each name matches one part of the rule only, so a part that went missing shows.
  it.each([
    ['key', 'apiKey'],
    ['key', 'X-API-KEY'],
    ['token', 'dapr.apiToken'],
    ['token', 'access_token'],
    ['secret', 'client_secret'],
    ['pass', 'password'],
    ['pwd', 'db_pwd'],
    ['signature', 'X-Amz-Signature'],
    ['auth', 'authorization'],
    ['jwt', 'jwt'],
    ['credential', 'credentials'],
    ['session', 'session_id'],
    ['cookie', 'Set-Cookie'],
    ['sid', 'sid'],
    ['sid', 'connect.sid'],
    ['sid', 'SID_2'],
    ['sig', 'sig'],
    ['sig', 'X-Sig'],
    ['sig', 'sig.v2'],
  ])('(%s) %s holds a credential', (_part, name) => expect(isSecretName(name)).toBe(true));

  // sid and sig count as whole words only.
  it.each([
    'waitForSidecarMs',
    'sidecar',
    'inside',
    'consider',
    'side',
    'signal',
    'design',
    'assignee',
    'insignia',
    'terminal_id',
    'code',
    'timeoutMs',
    'page',
  ])('%s does not', (name) => expect(isSecretName(name)).toBe(false));
});
