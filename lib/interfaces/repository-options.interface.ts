/** Names of the repositories `forRoot` can register (see `RepositoryOptions.enabled`). */
export type RepositoryName =
  | 'itemMaster'
  | 'paymentMaster'
  | 'settingsMaster'
  | 'tranlog'
  | 'terminalInfo'
  | 'storeInfo'
  | 'staffMaster'
  | 'pubsub'
  | 'stateStore'
  | 'deliveryStatus';

/** The web repositories, `PubsubManager` and `StateStoreManager` (`repositories.*`). */
export interface RepositoryOptions {
  /**
   * Which repositories `forRoot` registers (and exports). `forRootAsync` always registers all of
   * them, since its options are only known after the module graph is built.
   * @default 'all'
   */
  enabled?: RepositoryName[] | 'all';
  /**
   * Lifetime of a cached item, payment or setting, in milliseconds; 0 turns the caches off. The
   * original cached items for 300 s and kept payments and settings with no expiry; here every
   * cache expires.
   * @default 300000
   */
  cacheTtlMs?: number;
  /**
   * @deprecated Use `cacheTtlMs` (in milliseconds: the old value × 1000); accepted, with a warning at
   * boot, until the next minor version.
   */
  cacheTtlSec?: number;
  /**
   * Entries kept per cache; beyond it the least recently used entry is evicted.
   * @default 1000
   */
  cacheMaxEntries?: number;
  /**
   * The Dapr state store of `StateStoreManager`.
   * @default 'statestore'
   */
  stateStore?: string;
  /** Service names (as `services` / `BASE_URL_<NAME>` know them) of the peers the repositories call. */
  services?: {
    /** @default 'master-data' */
    masterData?: string;
    /** @default 'terminal' */
    terminal?: string;
    /** @default 'cart' */
    cart?: string;
  };
}
