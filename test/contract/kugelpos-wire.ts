import { readFileSync } from 'node:fs';
import * as path from 'node:path';
// The types' own files rather than the package root: the compile that checks the fixtures stays small.
import type {
  DeliveryAck,
  ItemMasterDocument,
  PaymentMasterDocument,
  SettingsMasterDocument,
  StaffMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
  TransactionDocument,
} from '../../lib/repositories/documents.interface';
import type { ApiEnvelope } from '../../lib/repositories/repository.interfaces';
import type { Tranlog } from '../../sample-app/shared/tranlog';
import { conform } from './exact';
import cartDeliveryStatus from './kugelpos/cart.delivery-status.json';
import cartTranlogEvent from './kugelpos/cart.tranlog-event.json';
import cartTransactions from './kugelpos/cart.transactions.json';
import itemDetails from './kugelpos/master-data.item-details.json';
import itemNotFound from './kugelpos/master-data.item-not-found.json';
import payment from './kugelpos/master-data.payment.json';
import settingValue from './kugelpos/master-data.setting-value.json';
import settings from './kugelpos/master-data.settings.json';
import staff from './kugelpos/master-data.staff.json';
import terminalDeliveryStatus from './kugelpos/terminal.delivery-status.json';
import store from './kugelpos/terminal.store.json';
import terminal from './kugelpos/terminal.terminal.json';
import terminals from './kugelpos/terminal.terminals.json';

/*
 * The Kugelpos services' answers and messages, as the original serialises them, one JSON file
 * each in `kugelpos/` (written by hand from the original's response schemas and transformers,
 * values invented). Each is typed here with `conform<T>()`: a fixture that is not exactly the
 * library's type (a key missing, a key too many, a value of another kind) is a type error in this
 * file, which `wire-types.spec.ts` compiles.
 */

/**
 * An error answer of a Kugelpos service: its exception handlers write the envelope by field name
 * (`user_error`), not by alias. The repositories read only the status of an error.
 */
export interface KugelposErrorEnvelope {
  success: false;
  code: number;
  message: string | null;
  user_error: { code: string | null; message: string | null } | null;
  data: string | null;
  metadata: null;
  operation: string | null;
}

/** A failure answered by the peer; `success` stays a plain boolean in the fixture's JSON type. */
type ErrorFixture = Omit<KugelposErrorEnvelope, 'success'> & { success: boolean };

/** The fixtures, typed. */
export const WIRE = {
  /** master-data `GET /tenants/{t}/stores/{s}/items/{code}/details` (`ItemStoreDetailResponse`). */
  itemDetails: conform<ApiEnvelope<ItemMasterDocument>>()(itemDetails),
  /** master-data's 404 for an unknown item (`DocumentNotFoundException` through its handler). */
  itemNotFound: conform<ErrorFixture>()(itemNotFound),
  /** master-data `GET /tenants/{t}/payments/{code}` (`PaymentResponse`). */
  payment: conform<ApiEnvelope<PaymentMasterDocument>>()(payment),
  /** master-data `GET /tenants/{t}/settings` (`list[SettingsMasterResponse]` with `metadata`). */
  settings: conform<ApiEnvelope<SettingsMasterDocument[]>>()(settings),
  /** master-data `GET /tenants/{t}/settings/{name}/value` (`SettingsMasterValueResponse`). */
  settingValue: conform<ApiEnvelope<{ value: string }>>()(settingValue),
  /** master-data `GET /tenants/{t}/staff/{id}` (`StaffResponse`). */
  staff: conform<ApiEnvelope<StaffMasterDocument>>()(staff),
  /** terminal `GET /tenants/{t}/stores/{s}` (`Store`). */
  store: conform<ApiEnvelope<StoreInfoDocument>>()(store),
  /** terminal `GET /terminals/{id}` (`Terminal`). */
  terminal: conform<ApiEnvelope<TerminalInfoDocument>>()(terminal),
  /** terminal `GET /terminals?store_code=` (`list[Terminal]` with `metadata`). */
  terminals: conform<ApiEnvelope<TerminalInfoDocument[]>>()(terminals),
  /** terminal `POST /terminals/{id}/delivery-status` (`DeliveryStatusUpdateResponse`). */
  terminalDeliveryStatus: conform<ApiEnvelope<DeliveryAck>>()(terminalDeliveryStatus),
  /** cart `GET /tenants/{t}/stores/{s}/terminals/{no}/transactions` (`list[Tran]` with `metadata`). */
  transactions: conform<ApiEnvelope<TransactionDocument[]>>()(cartTransactions),
  /** cart `POST .../transactions/{no}/delivery-status` (`DeliveryStatusUpdateResponse`). */
  cartDeliveryStatus: conform<ApiEnvelope<DeliveryAck>>()(cartDeliveryStatus),
  /** The transaction log the cart publishes on `topic-tranlog` (`BaseTransaction` dumped, plus `event_id`). */
  tranlogEvent: conform<Tranlog>()(cartTranlogEvent),
};

export type WireFixture = keyof typeof WIRE;

const FILES: Record<WireFixture, string> = {
  itemDetails: 'master-data.item-details.json',
  itemNotFound: 'master-data.item-not-found.json',
  payment: 'master-data.payment.json',
  settings: 'master-data.settings.json',
  settingValue: 'master-data.setting-value.json',
  staff: 'master-data.staff.json',
  store: 'terminal.store.json',
  terminal: 'terminal.terminal.json',
  terminals: 'terminal.terminals.json',
  terminalDeliveryStatus: 'terminal.delivery-status.json',
  transactions: 'cart.transactions.json',
  cartDeliveryStatus: 'cart.delivery-status.json',
  tranlogEvent: 'cart.tranlog-event.json',
};

/** The fixture's file as it is (a peer serves these bytes: `150.0` stays `150.0`). */
export function wireText(name: WireFixture): string {
  return readFileSync(path.join(__dirname, 'kugelpos', FILES[name]), 'utf8');
}

/** A fresh copy of a fixture's value, to build variations of it in a test. */
export function wireCopy<K extends WireFixture>(name: K): (typeof WIRE)[K] {
  return structuredClone(WIRE[name]);
}

/**
 * Every key path of a JSON value, sorted (`lineItems[].itemName`; an array's elements share
 * `[]`): the shape of a document with its values left out, to compare something a service of
 * this project answers or publishes with the original's fixture.
 */
export function keyPaths(value: unknown, prefix = ''): string[] {
  const paths = new Set<string>();
  const walk = (v: unknown, at: string) => {
    if (Array.isArray(v)) v.forEach((element) => walk(element, `${at}[]`));
    else if (typeof v === 'object' && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        const path = at ? `${at}.${key}` : key;
        paths.add(path);
        walk(child, path);
      }
    }
  };
  walk(value, prefix);
  return [...paths].sort();
}
