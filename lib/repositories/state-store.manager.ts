import { Inject, Injectable, Logger } from '@nestjs/common';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { DaprFailure, DaprResult } from '../dapr/dapr.interfaces';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';

/**
 * Outcome of a state read. "No such key" (`found: false`) and "the store could not be read"
 * (`ok: false`, with the failure's `code` and `status` as in `DaprResult`) are different answers:
 * a consumer that de-duplicates events must not treat an outage as "not processed yet" (the
 * original did, and processed events twice).
 */
export type StateReadResult<T> = { ok: true; found: true; data: T } | { ok: true; found: false } | DaprFailure;

/**
 * Key/value state in one Dapr state store (`repositories.stateStore`, `statestore` by default),
 * as consumers use it for idempotent processing (the event id is the key). Never throws; a failure
 * keeps its `code` and `status` (`DaprResult`). Values are never logged.
 */
@Injectable()
export class StateStoreManager {
  private readonly logger = new Logger(StateStoreManager.name);
  /** The state store this manager reads and writes. */
  readonly storeName: string;

  constructor(
    private readonly dapr: DaprClientHelper,
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions,
  ) {
    this.storeName = options.repositories.stateStore;
  }

  /**
   * Saves `data` under `key` (last write wins; repeated by the client when it may not have
   * landed). A failure with `code: 'ERR_UNKNOWN_OUTCOME'` cannot come from this save, only from
   * conditional writes through `DaprClientHelper.detailed`.
   */
  async saveState(key: string, data: unknown): Promise<DaprResult<void>> {
    try {
      return await this.dapr.detailed.saveState(this.storeName, key, data);
    } catch (error) {
      return this.unexpected('save', error);
    }
  }

  /** Reads `key`: `found: false` when there is no such key, `ok: false` when the store failed. */
  async getState<T = unknown>(key: string): Promise<StateReadResult<T>> {
    try {
      const result = await this.dapr.detailed.getState<T>(this.storeName, key);
      if (!result.ok) return result;
      return result.value === null || result.value === undefined
        ? { ok: true, found: false }
        : { ok: true, found: true, data: result.value };
    } catch (error) {
      return this.unexpected('get', error);
    }
  }

  /** Deletes `key` (also `ok` when it did not exist). */
  async deleteState(key: string): Promise<DaprResult<void>> {
    try {
      return await this.dapr.detailed.deleteState(this.storeName, key);
    } catch (error) {
      return this.unexpected('delete', error);
    }
  }

  private unexpected(what: string, error: unknown): DaprFailure {
    const text = `${what} state in ${this.storeName} failed: ${error instanceof Error ? error.name : typeof error}`;
    this.logger.error(text);
    return { ok: false, error: text, code: 'ERR_INTERNAL' };
  }
}
