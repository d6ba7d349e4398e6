import { TestingModule } from '@nestjs/testing';
import * as jwt from 'jsonwebtoken';
import { apiKeyHeaders, bearerHeaders, HttpClientHelper, isInvalidOptionsError, ServiceTokenService } from '../../lib';
import { terminalAuth } from '../../lib/kugelpos';
import { verifyLikeKugelpos } from '../support/kugelpos-token';
import { captureLogs } from '../support/log-capture';
import { SECRETS } from '../support/secrets';
import { bootKugelComms } from '../support/module-fixture';
import { json, startTestServer } from '../support/test-server';

const SECRET = SECRETS.serviceTokenSecret;

describe('auth headers and service tokens', () => {
  it('builds the API key and bearer headers', () => {
    expect(apiKeyHeaders('k1')).toEqual({ 'X-API-KEY': 'k1' });
    expect(bearerHeaders('t1')).toEqual({ Authorization: 'Bearer t1' });
  });

  it('follows the terminal rule: JWT → bearer only; else API key plus terminal_id', () => {
    expect(terminalAuth({ terminalId: 'A-B-1', apiKey: 'k', jwtToken: 'j' })).toEqual({
      headers: { Authorization: 'Bearer j' },
      params: {},
    });
    expect(terminalAuth({ terminalId: 'A-B-1', apiKey: 'k' })).toEqual({
      headers: { 'X-API-KEY': 'k' },
      params: { terminal_id: 'A-B-1' },
    });
  });

  describe('ServiceTokenService', () => {
    let app: TestingModule;
    afterEach(() => app?.close());

    it('mints a short-lived HS256 JWT with the original claims, accepted by a verifying peer', async () => {
      const peer = await startTestServer((req, res) => {
        const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
        try {
          const claims = jwt.verify(token, SECRET, { algorithms: ['HS256'] });
          json(res, 200, { claims, tenant: req.headers['x-tenant-id'] });
        } catch (error) {
          json(res, 401, { error: (error as Error).message });
        }
      });
      try {
        app = await bootKugelComms({
          services: { 'master-data': peer.url },
          auth: { serviceToken: { secret: SECRET } },
          dapr: { waitForSidecarMs: 0 },
        });
        const tokens = app.get(ServiceTokenService);
        const headers = tokens.serviceAuthHeaders('T0001', 'report');
        const answer = await app
          .get(HttpClientHelper)
          .getServiceClient('master-data')
          .get<{ claims: jwt.JwtPayload; tenant: string }>('/staff', { headers });
        expect(answer.tenant).toBe('T0001');
        expect(answer.claims).toMatchObject({
          sub: 'service:report',
          tenant_id: 'T0001',
          service: 'report',
          is_service_account: true,
          is_superuser: false,
        });
        // Issued 30 s back (a receiver whose clock is behind must not see a future iat), valid 300 s from now.
        const now = Math.floor(Date.now() / 1000);
        expect(answer.claims.iat!).toBeGreaterThanOrEqual(now - 31);
        expect(answer.claims.iat!).toBeLessThanOrEqual(now - 29);
        expect(answer.claims.exp! - answer.claims.iat!).toBe(300 + 30);
        expect(jwt.decode(tokens.createServiceToken('T1', 's'), { complete: true })?.header.alg).toBe('HS256');
      } finally {
        await peer.close();
      }
    });

    it('a token signed with another algorithm or secret is refused by the verifier (pinned algorithm)', async () => {
      app = await bootKugelComms({
        auth: { serviceToken: { secret: SECRET, algorithm: 'HS512', expiresInMs: 60_000 } },
        dapr: { waitForSidecarMs: 0 },
      });
      const token = app.get(ServiceTokenService).createServiceToken('T1', 'cart');
      expect(() => jwt.verify(token, SECRET, { algorithms: ['HS256'] })).toThrow(/invalid algorithm/);
      expect(() => jwt.verify(token, 'other', { algorithms: ['HS512'] })).toThrow(/invalid signature/);
      const claims = jwt.verify(token, SECRET, { algorithms: ['HS512'] }) as jwt.JwtPayload;
      expect(claims.exp! - claims.iat!).toBe(60 + 30);
    });

    it("passes the Kugelpos services' own check (HS256, their claim names, no aud): a service account of the tenant", async () => {
      app = await bootKugelComms({ auth: { serviceToken: { secret: SECRET } }, dapr: { waitForSidecarMs: 0 } });
      const token = app.get(ServiceTokenService).createServiceToken('T0001', 'report');
      expect(jwt.decode(token)).not.toHaveProperty('aud');
      expect(verifyLikeKugelpos(token, SECRET)).toEqual({
        username: 'service:report',
        tenant_id: 'T0001',
        is_superuser: false,
        is_service_account: true,
        service: 'report',
      });
    });

    it('an issuer is fine with the services (they do not check iss); an audience only when the call asks, and they refuse it', async () => {
      app = await bootKugelComms({
        auth: { serviceToken: { secret: SECRET, issuer: 'kugel-comms' } },
        dapr: { waitForSidecarMs: 0 },
      });
      const tokens = app.get(ServiceTokenService);
      expect(verifyLikeKugelpos(tokens.createServiceToken('T1', 'report'), SECRET).is_service_account).toBe(true);
      const forAnother = tokens.createServiceToken('T1', 'report', { audience: 'ledger' });
      expect(jwt.verify(forAnother, SECRET, { algorithms: ['HS256'], audience: 'ledger' })).toMatchObject({
        aud: 'ledger',
        iss: 'kugel-comms',
      });
      expect(() => verifyLikeKugelpos(forAnother, SECRET)).toThrow('Invalid audience');
      const headers = tokens.serviceAuthHeaders('T1', 'report', { audience: 'ledger' });
      expect(jwt.decode(String(headers.Authorization).replace(/^Bearer /, ''))).toMatchObject({ aud: 'ledger' });
    });

    it('refuses a module-wide audience at boot, naming the option', async () => {
      const failed = await bootKugelComms({
        auth: { serviceToken: { secret: SECRET, audience: 'cart' } as never },
        dapr: { waitForSidecarMs: 0 },
      }).catch((e: unknown) => e);
      expect(isInvalidOptionsError(failed)).toBe(true);
      expect((failed as Error).message).toMatch(/"auth\.serviceToken\.audience".*refuse a token with an "aud" claim/);
    });

    it('uses the API key only when no service token is configured at all, and logs nothing of it', async () => {
      const logs = captureLogs();
      try {
        app = await bootKugelComms({ auth: { apiKey: SECRETS.otherApiKey }, dapr: { waitForSidecarMs: 0 } });
        logs.reinstall();
        const headers = app.get(ServiceTokenService).serviceAuthHeaders('T1', 'report');
        expect(headers).toEqual({ 'X-API-KEY': SECRETS.otherApiKey, 'X-Tenant-ID': 'T1' });
        expect(logs.logger.text()).not.toContain(SECRETS.otherApiKey);
      } finally {
        logs.restore();
      }
    });

    it('with a service token configured, never the API key: a bad tenant or service name throws instead', async () => {
      app = await bootKugelComms({
        auth: { apiKey: SECRETS.otherApiKey, serviceToken: { secret: SECRET } },
        dapr: { waitForSidecarMs: 0 },
      });
      const tokens = app.get(ServiceTokenService);
      expect(tokens.serviceAuthHeaders('T1', 'report')).toEqual({
        Authorization: expect.stringMatching(/^Bearer ey/),
        'X-Tenant-ID': 'T1',
      });
      for (const [tenant, service] of [
        ['', 'report'],
        ['T1', ''],
        ['T1\r\nX-Evil: 1', 'report'],
        [undefined, 'report'],
      ]) {
        expect(() => tokens.serviceAuthHeaders(tenant as string, service as string)).toThrow(TypeError);
      }
    });

    it('an empty tenant throws also without a service token (no X-API-KEY with an empty X-Tenant-ID)', async () => {
      app = await bootKugelComms({ auth: { apiKey: SECRETS.otherApiKey }, dapr: { waitForSidecarMs: 0 } });
      expect(() => app.get(ServiceTokenService).serviceAuthHeaders('', 'report')).toThrow(
        'serviceAuthHeaders: tenantId must be a non-empty string',
      );
    });

    it('throws when neither a token nor an API key is available', async () => {
      app = await bootKugelComms({ dapr: { waitForSidecarMs: 0 } });
      expect(() => app.get(ServiceTokenService).serviceAuthHeaders('T1', 'report')).toThrow(
        /configure KugelCommsModule option auth.serviceToken \(a service token\) or auth.apiKey/,
      );
    });
  });
});
