import { AxiosAdapter } from 'axios';

/**
 * Sends the attempts of the pooled clients somewhere other than the network: the testing module's
 * in-memory peers and sidecar (`kugel-comms/testing`), provided under `KUGEL_COMMS_SENDER`. The
 * clients keep everything else (input checks, the call runner, axios-retry, breakers, budget,
 * events, metrics); only the node:http adapter and its agent are left out, so no socket is opened.
 * @internal
 */
export interface TransportSender {
  /** What sends one attempt of the REST client of `serviceName`. */
  serviceAdapter(serviceName: string): AxiosAdapter;
  /** What sends one attempt of the sidecar client. */
  sidecarAdapter(): AxiosAdapter;
  /** A base URL for a service the app did not configure but the sender answers for, else `undefined`. */
  baseUrlFor(serviceName: string): string | undefined;
  /** How the clients' start-up log lines name where calls go (e.g. `in memory (kugel-comms/testing)`). */
  readonly label: string;
}
