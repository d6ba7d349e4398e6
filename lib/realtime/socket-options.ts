import type { ClientOptions } from 'ws';
import { ConnectionSetup, Handshake } from './realtime-connection.interface';

/** How long a closing handshake may take before `ws` drops the socket. */
const CLOSE_TIMEOUT_MS = 2_000;

/** The `ws` client options of one attempt. */
export function clientOptions(handshake: Handshake, setup: ConnectionSetup): ClientOptions {
  const options: ClientOptions & { closeTimeout: number } = {
    headers: handshake.headers,
    maxPayload: setup.settings.maxMessageBytes,
    // Off: compression costs CPU on both sides for small service messages.
    perMessageDeflate: false,
    // Never: credentials must not travel to another host.
    followRedirects: false,
    autoPong: true,
    rejectUnauthorized: !setup.target.insecureSkipTlsVerify,
    // Not in @types/ws 8.18; the ws this package depends on (^8.23) reads it.
    closeTimeout: CLOSE_TIMEOUT_MS,
  };
  return options;
}
