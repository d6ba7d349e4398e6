/** `X-API-KEY: <key>`. */
export function apiKeyHeaders(apiKey: string): Record<string, string> {
  return { 'X-API-KEY': apiKey };
}

/** `Authorization: Bearer <token>`. */
export function bearerHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** The credentials of a terminal, as the Kugelpos terminal info carries them. */
export interface TerminalCredentials {
  /** `{tenant}-{store}-{no}`. */
  terminalId?: string;
  apiKey?: string;
  /** The incoming terminal JWT, when the request came with one. */
  jwtToken?: string;
}

/**
 * The terminal auth rule of the Kugelpos services: a terminal JWT → `Authorization: Bearer` (no
 * `terminal_id`); otherwise `X-API-KEY` plus the query parameter `terminal_id`. With
 * `'api-key-first'` (the terminal-info repository), a terminal that has both goes with its API key.
 */
export function terminalAuth(
  terminal: TerminalCredentials,
  order: 'jwt-first' | 'api-key-first' = 'jwt-first',
): {
  headers: Record<string, string>;
  params: Record<string, string>;
} {
  if (terminal.jwtToken && !(order === 'api-key-first' && terminal.apiKey)) {
    return { headers: bearerHeaders(terminal.jwtToken), params: {} };
  }
  if (terminal.apiKey) {
    return {
      headers: apiKeyHeaders(terminal.apiKey),
      params: terminal.terminalId ? { terminal_id: terminal.terminalId } : {},
    };
  }
  return { headers: {}, params: terminal.terminalId ? { terminal_id: terminal.terminalId } : {} };
}
