/*
 * Documents the repositories return, with the camelCase field names they have on the wire.
 * Only the identity field of each document is checked when a response is read; the other fields
 * are passed through as the peer sent them (and may be absent).
 */

/** Common fields of every stored document. */
export interface BaseDocument {
  shardKey?: string;
  createdAt?: string;
  updatedAt?: string | null;
  etag?: string;
}

/** An item as master-data's `/items/{code}/details` answers it. */
export interface ItemMasterDocument extends BaseDocument {
  tenantId?: string;
  storeCode?: string | null;
  itemCode: string;
  description?: string;
  descriptionShort?: string | null;
  descriptionLong?: string | null;
  manufacturerCode?: string | null;
  unitPrice?: number;
  unitCost?: number;
  storePrice?: number | null;
  itemDetails?: string[];
  imageUrls?: string[];
  categoryCode?: string;
  taxCode?: string;
  isDiscountRestricted?: boolean;
  isDeleted?: boolean;
  entryDate?: string;
  lastUpdateDate?: string | null;
}

/** A payment method. */
export interface PaymentMasterDocument extends BaseDocument {
  tenantId?: string;
  storeCode?: string | null;
  paymentCode: string;
  description?: string;
  limitAmount?: number;
  /** @default true (in the original's model) */
  canRefund?: boolean;
  canDepositOver?: boolean;
  canChange?: boolean;
  /** @default true (in the original's model) */
  isActive?: boolean;
}

/** A store- or terminal-specific value of a setting. */
export interface SettingsValue {
  storeCode?: string;
  terminalNo?: number;
  value: string;
}

/** A setting with its default and its per-store/terminal values. */
export interface SettingsMasterDocument extends BaseDocument {
  tenantId?: string;
  name: string;
  defaultValue?: string;
  values?: SettingsValue[];
}

/** The value of one setting for a store/terminal (`/settings/{name}/value`). */
export interface SettingValue {
  name: string;
  value: string;
}

/** A staff member. */
export interface StaffMasterDocument extends BaseDocument {
  tenantId?: string;
  storeCode?: string | null;
  id: string;
  name?: string;
  /** A staff PIN: do not log it. */
  pin?: string;
  isDeleted?: boolean;
}

/** A store, as the terminal service answers it. */
export interface StoreInfoDocument extends BaseDocument {
  storeCode: string;
  storeName?: string;
  status?: string;
  businessDate?: string;
  tags?: string[];
}

/** A terminal. */
export interface TerminalInfoDocument extends BaseDocument {
  tenantId?: string;
  storeCode?: string;
  terminalNo?: number;
  description?: string;
  /** `{tenant}-{store}-{no}`. */
  terminalId: string;
  functionMode?: string;
  status?: string;
  businessDate?: string;
  openCounter?: number;
  businessCounter?: number;
  staff?: StaffMasterDocument | null;
  initialAmount?: number | null;
  physicalAmount?: number | null;
  /** The terminal's API key when the peer sends it: a credential, never log it. */
  apiKey?: string;
  tags?: string[];
}

/** Sales totals of a transaction. */
export interface TransactionSales {
  referenceDateTime?: string;
  totalAmount?: number;
  totalAmountWithTax?: number;
  taxAmount?: number;
  totalQuantity?: number;
  changeAmount?: number;
  totalDiscountAmount?: number;
  isCancelled?: boolean;
  [field: string]: unknown;
}

/** A transaction log entry (the original's `BaseTransaction`). */
export interface TransactionDocument extends BaseDocument {
  tenantId?: string;
  storeCode?: string;
  storeName?: string;
  terminalNo?: number;
  transactionNo: number;
  transactionType?: number;
  businessDate?: string;
  openCounter?: number;
  businessCounter?: number;
  generateDateTime?: string;
  receiptNo?: number;
  user?: Record<string, unknown> | null;
  staff?: Record<string, unknown> | null;
  sales?: TransactionSales;
  lineItems?: Array<Record<string, unknown>>;
  payments?: Array<Record<string, unknown>>;
  taxes?: Array<Record<string, unknown>>;
  subtotalDiscounts?: Array<Record<string, unknown>>;
  origin?: Record<string, unknown> | null;
  receiptText?: string | null;
  journalText?: string | null;
  additionalInfo?: unknown;
  isVoided?: boolean;
  isRefunded?: boolean;
  /** Added by the cart when it publishes the transaction. */
  eventId?: string;
}
