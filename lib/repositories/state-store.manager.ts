import { Inject, Injectable, Logger } from '@nestjs/common';
import { DaprClientHelper } from '../dapr/dapr-client.helper';
import { KUGEL_COMMS_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../kugel-comms.defaults';

/** Outcome of a state write. */
export type StateWriteResult = { ok: true } | { ok: false; error: string };

/**
 * Outcome of a state read. "No such key" (`found: false`) and "the store could not be read"
 * (`ok: false`) are different answers: a consumer that de-duplicates events must not treat an
 * outage as "not processed yet" (the original did, and processed events twice).
 */
export type StateReadResult<T> =
  { ok: true; found: true; data: T } | { ok: true; found: false } | { ok: false; error: string };

/**
 * Key/value state in one Dapr state store (`repositories.stateStore`, `statestore` by default),
 * as consumers use it for idempotent processing (the event id is the key). Never throws. Values
 * are never logged.
 */
@Injectable()
export class StateStoreManager {
  private readonly logger = new Logger(StateStoreManager.name);
  /** The state store this manager reads and writes. */
  readonly storeName: string;

  constructor(
    private readonly dapr: DaprClientHelper,
    @Inject(KUGEL_COMMS_OPTIONS) options: ResolvedKugelCommsOptions,
  ) {
    this.storeName = options.repositories.stateStore;
  }

  /** Saves `data` under `key`. */
  async saveState(key: string, data: unknown): Promise<StateWriteResult> {
    try {
      const result = await this.dapr.saveStateResult(this.storeName, key, data);
      return result.ok ? { ok: true } : { ok: false, error: result.error };
    } catch (error) {
      return this.unexpected('save', error);
    }
  }

  /** Reads `key`: `found: false` when there is no such key, `ok: false` when the store failed. */
  async getState<T = unknown>(key: string): Promise<StateReadResult<T>> {
    try {
      const result = await this.dapr.getStateResult<T>(this.storeName, key);
      if (!result.ok) return { ok: false, error: result.error };
      const value = result.value.value;
      return value === null || value === undefined
        ? { ok: true, found: false }
        : { ok: true, found: true, data: value };
    } catch (error) {
      return this.unexpected('get', error);
    }
  }

  /** Deletes `key` (also `ok` when it did not exist). */
  async deleteState(key: string): Promise<StateWriteResult> {
    try {
      const result = await this.dapr.deleteStateResult(this.storeName, key);
      return result.ok ? { ok: true } : { ok: false, error: result.error };
    } catch (error) {
      return this.unexpected('delete', error);
    }
  }

  private unexpected(what: string, error: unknown): { ok: false; error: string } {
    const text = `${what} state in ${this.storeName} failed: ${error instanceof Error ? error.name : typeof error}`;
    this.logger.error(text);
    return { ok: false, error: text };
  }
}
