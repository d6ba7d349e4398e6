import { randomUUID } from 'node:crypto';
import { DaprClientHelper, DaprEvent, DaprResult, EventHandledEvent } from '../../lib';
import { StateStoreKind } from '../../lib/testing';
import { waitUntil } from '../support/processes';
import type { ContractConsumer } from './delivery-contract';

/** What the sidecar answered a raw request: its status and body, or that it dropped the connection. */
export interface RawAnswer {
  /** 0 when the connection was dropped without an answer. */
  status: number;
  body: unknown;
}

/** A sidecar under contract, with an app whose providers include `ContractConsumer`. */
export interface DaprContractTarget {
  dapr: DaprClientHelper;
  /** The app id the sidecar runs with (the `source` of the CloudEvents it makes). */
  appId: string;
  /** What the `statestore` component is (the cases that differ by store say how). */
  storeKind: StateStoreKind;
  /**
   * One request to the sidecar as sent, past the client's own checks (to see what the sidecar
   * itself refuses). `body` is sent as it is.
   */
  raw(method: 'GET' | 'POST' | 'DELETE', path: string, body?: string, contentType?: string): Promise<RawAnswer>;
  /** The app's `ContractConsumer`, when the target has an app (the delivery half needs one). */
  consumer?: ContractConsumer;
  /** Every `eventHandled` event of the app, in order (the delivery half needs it). */
  handled?: EventHandledEvent[];
  /** Lets deliveries happen: nothing for daprd (it delivers by itself), `flush()` for the stand-in. */
  deliver(): Promise<void>;
  close(): Promise<void>;
}

export interface ContractCase {
  name: string;
  run(target: DaprContractTarget): Promise<void>;
}

/** The app's `subscriptions.maxBodyBytes` on every target with an app. */
export const CONTRACT_MAX_BODY_BYTES = 64 * 1024;

export const STORE = 'statestore';
export const key = (name: string) => `contract-${name}-${randomUUID().slice(0, 8)}`;
export const etagOf = (result: DaprResult<unknown>) => (result.ok ? result.etag : undefined);

/** `body` as JSON when it is JSON, else as it is. */
export function parsed(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

/** Waits (letting the target deliver) until `find` finds the event. */
export async function received(t: DaprContractTarget, find: () => DaprEvent | undefined): Promise<DaprEvent> {
  await waitUntil(
    async () => {
      await t.deliver();
      return find() !== undefined;
    },
    15_000,
    'the delivery',
    50,
  );
  return find()!;
}
