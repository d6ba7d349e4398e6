/**
 * The fixed credential values tests use. The log scan (test/support/log-scan-teardown.ts) looks
 * for each of them in every log line and error the run produced: use these, never ad-hoc
 * literals, wherever a test passes a credential.
 */
export const SECRETS = {
  /** An `X-API-KEY` value. */
  apiKey: 'sk-live-kugel-AAAA1111-scan',
  /** A second API key (service-token fallback, redirect tests). */
  otherApiKey: 'sk-live-kugel-CCCC3333-scan',
  /** A bearer JWT (terminal token). */
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrdWdlbC1zY2FuIn0.a3VnZWwtc2Nhbi1zaWduYXR1cmU',
  /** A `dapr-api-token` value. */
  daprApiToken: 'dapr-tok-kugel-BBBB2222-scan',
  /** An `APP_API_TOKEN` value (what daprd sends the app as `dapr-api-token`). */
  appApiToken: 'app-tok-kugel-DDDD4444-scan',
  /** The HMAC secret of service JWTs (64 bytes and more: long enough for HS512). */
  serviceTokenSecret: 'service-secret-kugel-0123456789-0123456789-0123456789-0123456789-scan',
} as const;

export type SecretName = keyof typeof SECRETS;

/** Every secret value, by name (for scans that must report the name, never the value). */
export function secretEntries(): Array<[SecretName, string]> {
  return Object.entries(SECRETS) as Array<[SecretName, string]>;
}
