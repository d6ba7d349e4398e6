import { BadRequestException } from '@nestjs/common';
// In an application: `from 'kugel-comms'`.
import { TerminalContext } from '../../lib';

/**
 * The terminal's credentials come with each request, as in Kugelpos: `Authorization: Bearer <jwt>`
 * or `X-API-KEY` (plus `terminal_id`); the repositories forward them by the same rule. Without
 * either, the demo uses `SAMPLE_API_KEY` so that `curl` works out of the box.
 */
export function contextOf(
  tenantId: string,
  storeCode: string,
  terminalNo: string,
  headers: Record<string, string | undefined>,
): TerminalContext {
  const no = Number(terminalNo);
  if (!Number.isInteger(no) || no < 1)
    throw new BadRequestException(`terminal number must be a positive integer, got ${JSON.stringify(terminalNo)}`);
  const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
  return {
    tenantId,
    storeCode,
    terminalNo: no,
    terminalId: `${tenantId}-${storeCode}-${no}`,
    jwtToken: bearer,
    apiKey: bearer ? undefined : (headers['x-api-key'] ?? process.env.SAMPLE_API_KEY ?? 'demo-terminal-key'),
  };
}

export function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BadRequestException(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new BadRequestException(`${name} must be a non-empty string`);
  return value;
}

export function optionalText(name: string, value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : text(name, value);
}
