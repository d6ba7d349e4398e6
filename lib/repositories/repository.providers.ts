import { RepositoryName } from '../interfaces/kugel-comms-options.interface';
import { DeliveryStatusWebRepository } from './delivery-status-web.repository';
import { ItemMasterWebRepository } from './item-master-web.repository';
import { PaymentMasterWebRepository } from './payment-master-web.repository';
import { PubsubManager } from './pubsub.manager';
import { SettingsMasterWebRepository } from './settings-master-web.repository';
import { StaffMasterWebRepository } from './staff-master-web.repository';
import { StateStoreManager } from './state-store.manager';
import { StoreInfoWebRepository } from './store-info-web.repository';
import { TerminalInfoWebRepository } from './terminal-info-web.repository';
import { TranlogWebRepository } from './tranlog-web.repository';

/** The repository class of each name of `repositories.enabled`. */
export const REPOSITORY_CLASSES: Record<RepositoryName, new (...args: never[]) => unknown> = {
  itemMaster: ItemMasterWebRepository,
  paymentMaster: PaymentMasterWebRepository,
  settingsMaster: SettingsMasterWebRepository,
  tranlog: TranlogWebRepository,
  terminalInfo: TerminalInfoWebRepository,
  storeInfo: StoreInfoWebRepository,
  staffMaster: StaffMasterWebRepository,
  pubsub: PubsubManager,
  stateStore: StateStoreManager,
  deliveryStatus: DeliveryStatusWebRepository,
};

/** Every repository class `KugelCommsModule` can register. */
export const REPOSITORY_PROVIDERS: Array<new (...args: never[]) => unknown> = Object.values(REPOSITORY_CLASSES);

/**
 * The classes `forRoot` registers for `repositories.enabled`: all of them for `'all'` or when
 * unset; names that are not repositories are left to option validation, which fails at boot.
 */
export function repositoryProviders(
  enabled: RepositoryName[] | 'all' | undefined,
): Array<new (...args: never[]) => unknown> {
  if (enabled === undefined || enabled === 'all' || !Array.isArray(enabled)) return REPOSITORY_PROVIDERS;
  const classes = enabled.map((name) => REPOSITORY_CLASSES[name]).filter((c) => c !== undefined);
  return [...new Set(classes)];
}
