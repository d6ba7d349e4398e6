/*
 * The documents the repositories return: the `data` of the Kugelpos services' answers, field for
 * field as their routers serialise them (camelCase aliases of the response schemas).
 *
 * How to read these types:
 * - Every field a response schema declares is on the wire, in every answer: the services do not
 *   leave out unset fields, they send `null`. So a field is never optional here; it is `| null`
 *   where a successful answer can carry `null`, and plain where the service fails (HTTP 500)
 *   rather than answer `null`.
 * - Nothing else is sent: a field that is not here is not in the answer.
 * - Money and quantities are JSON numbers (the services write money as floats, `150.0`); dates
 *   are strings: `entryDatetime` / `lastUpdateDatetime` as `YYYY-MM-DD HH:MM:SS`, business dates
 *   as `YYYYMMDD`, transaction times as ISO-8601 with the offset.
 *
 * Only the identity field of each document is checked when an answer is read; the rest is passed
 * on as the service sent it.
 */

/** An item with its store price: master-data's `GET /tenants/{t}/stores/{s}/items/{code}/details`. */
export interface ItemMasterDocument {
  itemCode: string;
  description: string;
  unitPrice: number;
  unitCost: number;
  /** The store's own price, `null` when the store has none (then `unitPrice` applies). */
  storePrice: number | null;
  itemDetails: string[];
  imageUrls: string[];
  categoryCode: string;
  taxCode: string;
  isDiscountRestricted: boolean;
  isDeleted: boolean;
  /** When the item was created, `YYYY-MM-DD HH:MM:SS`. */
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/** A payment method: master-data's `GET /tenants/{t}/payments/{code}`. */
export interface PaymentMasterDocument {
  paymentCode: string;
  description: string;
  limitAmount: number;
  canRefund: boolean;
  canDepositOver: boolean;
  canChange: boolean;
  isActive: boolean;
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/** A store- or terminal-specific value of a setting (`terminalNo` `null`: the whole store). */
export interface SettingsValue {
  storeCode: string;
  terminalNo: number | null;
  value: string;
}

/** A setting with its default and its per-store/terminal values: master-data's `GET /tenants/{t}/settings`. */
export interface SettingsMasterDocument {
  name: string;
  defaultValue: string;
  values: SettingsValue[];
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/**
 * The value of one setting in effect for a store and terminal. Made by
 * `SettingsMasterWebRepository.getSettingValueByName` from master-data's `{ value }` and the name asked for.
 */
export interface SettingValue {
  name: string;
  value: string;
}

/** A staff member: master-data's `GET /tenants/{t}/staff/{id}`. */
export interface StaffMasterDocument {
  id: string;
  name: string;
  /** The staff member's PIN: a credential, never log it. */
  pin: string;
  roles: string[] | null;
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/** A store: the terminal service's `GET /tenants/{t}/stores/{s}`. */
export interface StoreInfoDocument {
  storeCode: string;
  storeName: string;
  status: string | null;
  businessDate: string | null;
  tags: string[] | null;
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/** The staff member signed in at a terminal, as the terminal service names the fields. */
export interface TerminalStaff {
  staffId: string;
  staffName: string;
  /** The staff member's PIN: a credential, never log it. */
  staffPin: string | null;
}

/** A terminal: the terminal service's `GET /terminals/{id}` and `GET /terminals`. */
export interface TerminalInfoDocument {
  /** `{tenant}-{store}-{no}`. */
  terminalId: string;
  tenantId: string;
  storeCode: string;
  terminalNo: number;
  description: string;
  /** `MainMenu`, `OpenTerminal`, `Sales`, `Returns`, `Void`, ... */
  functionMode: string;
  /** `Idle`, `Opened` or `Closed`. */
  status: string;
  /** The business date the terminal was opened for, `YYYYMMDD`; `null` before its first opening. */
  businessDate: string | null;
  /** How many times the terminal was opened on its business date. */
  openCounter: number;
  businessCounter: number;
  initialAmount: number | null;
  physicalAmount: number | null;
  /** Who is signed in; `null` when nobody is. */
  staff: TerminalStaff | null;
  /** The terminal's API key: a credential, never log it. */
  apiKey: string | null;
  entryDatetime: string;
  lastUpdateDatetime: string | null;
}

/** A discount on a line or on the subtotal of a transaction. */
export interface TransactionDiscount {
  /** `DiscountAmount` or `DiscountPercentage`. */
  discountType: string;
  discountValue: number;
  discountAmount: number;
  discountDetail: string | null;
  promotionCode: string | null;
  promotionType: string | null;
}

/** A line of a transaction. */
export interface TransactionLineItem {
  lineNo: number;
  itemCode: string;
  /** The item's description when it was sold. */
  itemName: string;
  categoryCode: string | null;
  unitPrice: number;
  unitPriceOriginal: number | null;
  isUnitPriceChanged: boolean;
  quantity: number;
  amount: number;
  discounts: TransactionDiscount[];
  imageUrls: string[];
  isCancelled: boolean;
  isDiscountRestricted: boolean;
}

/** A payment of a transaction. */
export interface TransactionPayment {
  paymentNo: number;
  paymentCode: string;
  /** The payment method's description. */
  paymentName: string;
  /** The amount applied to the transaction (what was tendered is the transaction's `depositAmount`). */
  paymentAmount: number;
  paymentDetail: string | null;
}

/** The tax of one tax code in a transaction. */
export interface TransactionTax {
  taxNo: number;
  taxCode: string;
  /** `External`, `Internal` or `Exempt`. */
  taxType: string;
  taxName: string;
  taxAmount: number;
  /** What the tax is computed on: the lines of this tax code. */
  targetAmount: number;
  targetQuantity: number;
}

/** The signed-in staff member who made a transaction. */
export interface TransactionStaff {
  id: string;
  name: string;
}

/** Whether a transaction was cancelled, or later voided or refunded (returned). */
export interface TransactionStatus {
  isCancelled: boolean;
  isVoided: boolean;
  isRefunded: boolean;
}

/**
 * A transaction as the cart's `GET .../terminals/{no}/transactions` answers it (the cart's `Tran`
 * schema): the totals at the top level, the flags under `status`. The transaction log the cart
 * publishes on pub/sub is another shape (snake_case, totals under `sales`).
 *
 * `staff` and `status` are always set (the cart fails rather than answer without them), and so
 * are the four lists, even when empty.
 */
export interface TransactionDocument {
  tenantId: string;
  storeCode: string;
  storeName: string | null;
  terminalNo: number;
  /** The cart sends the amount with tax here, the same value as `totalAmountWithTax`. */
  totalAmount: number;
  totalAmountWithTax: number;
  totalQuantity: number;
  totalDiscountAmount: number;
  /** What was tendered, over every payment. */
  depositAmount: number;
  changeAmount: number;
  stampDutyAmount: number | null;
  receiptNo: number;
  transactionNo: number;
  /** 101 sale, 102 return, 201 void of a sale, 202 void of a return. */
  transactionType: number;
  businessDate: string | null;
  generateDateTime: string | null;
  lineItems: TransactionLineItem[];
  payments: TransactionPayment[];
  taxes: TransactionTax[];
  subtotalDiscounts: TransactionDiscount[];
  receiptText: string | null;
  journalText: string | null;
  staff: TransactionStaff;
  status: TransactionStatus;
}

/**
 * The publisher's answer to a delivery-status callback (cart's and terminal's
 * `POST .../delivery-status`): the callback echoed back. Its fields are snake_case, unlike the
 * other documents: the services' schema for it has no camelCase aliases.
 */
export interface DeliveryAck {
  event_id: string;
  service: string;
  status: string;
  success: boolean;
}
