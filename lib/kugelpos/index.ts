/**
 * Public API of `kugel-comms/kugelpos`: the Kugelpos services' own shapes and rules, for an app
 * that talks to them through the web repositories.
 *
 * The repositories are classes of the main entry (`kugel-comms`) and are registered by `forRoot`;
 * `TerminalContext`, the caller argument of every repository call, is there too. This entry holds
 * the rest of what they take and return (the master-data documents, the transaction log, the
 * envelope of a Kugelpos answer), the terminal auth rule, and the delivery-status rules of a publisher that keeps the Kugelpos delivery-status documents.
 * An app that never talks to a Kugelpos service does not need this entry.
 */

// ---- what the repositories take --------------------------------------------------------------------
export type { ApiEnvelope, EnvelopeMetadata, PaginatedResult } from '../repositories/repository.interfaces';
export type { TranlogQuery } from '../repositories/tranlog-web.repository';
export type { DeliveryNotice, TranlogOrigin, TerminalLogOrigin } from '../repositories/delivery-status-web.repository';
export type { StateReadResult } from '../repositories/state-store.manager';
export { terminalAuth } from '../auth/auth-headers';
export type { TerminalCredentials } from '../auth/auth-headers';

// ---- the documents they return --------------------------------------------------------------------
export type {
  DeliveryAck,
  ItemMasterDocument,
  PaymentMasterDocument,
  SettingsMasterDocument,
  SettingsValue,
  SettingValue,
  StaffMasterDocument,
  StoreInfoDocument,
  TerminalInfoDocument,
  TerminalStaff,
  TransactionDiscount,
  TransactionDocument,
  TransactionLineItem,
  TransactionPayment,
  TransactionStaff,
  TransactionStatus,
  TransactionTax,
} from '../repositories/documents.interface';

// ---- delivery status: who received a published event ----------------------------------------------
export { rollUpDeliveryStatus, applyDeliveryCallback, pendingConsumers } from '../delivery/delivery-status';
export type {
  DeliveryStatus,
  ConsumerStatus,
  ConsumerDelivery,
  DeliveryCallback,
  DeliveryCallbackStatus,
  PublishOutcome,
  CallbackRefusal,
} from '../delivery/delivery-status';
