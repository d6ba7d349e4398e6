import { Inject, Injectable } from '@nestjs/common';
import { isNotFoundError } from '../errors/not-found.error';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../http/path';
import { KUGEL_COMMS_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../kugel-comms.defaults';
import { SettingsMasterDocument, SettingValue } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { cacheKey, credentialOf, TtlCache } from './ttl-cache';
import { WebCall, WebRepository } from './web-repository';

/**
 * Settings from master-data (cart → master-data): `GET /tenants/{tenant}/settings` and
 * `GET /tenants/{tenant}/settings/{name}/value`, both with the query `store_code` and
 * `terminal_no` (left out when the context has none, instead of the original's empty values).
 *
 * As the original, a 404 is not an error here: the list is then empty and a value `null`. Both
 * answers are cached per tenant, store and terminal (and name) for `repositories.cacheTtlSec`;
 * 404s and failures are not cached.
 */
@Injectable()
export class SettingsMasterWebRepository extends WebRepository {
  private readonly lists: TtlCache<SettingsMasterDocument[]>;
  private readonly values: TtlCache<SettingValue>;

  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
    const cache = {
      ttlMs: options.repositories.cacheTtlMs,
      maxEntries: options.repositories.cacheMaxEntries,
    };
    this.lists = new TtlCache(cache);
    this.values = new TtlCache(cache);
  }

  /** Every setting of the tenant, for the context's store and terminal; `[]` on 404. */
  async getAllSettings(context: TerminalContext): Promise<SettingsMasterDocument[]> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getAllSettings',
      collection: 'settings master',
      key: '*',
      route: '/tenants/:tenant/settings',
      context,
      params: this.scope(context),
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/settings`,
    };
    this.checkContext(call, context);
    try {
      const { value } = await this.lists.getOrLoad(
        cacheKey(context.tenantId, context.storeCode, credentialOf(context), context.terminalNo),
        async () => {
          const envelope = await this.fetchEnvelope(call);
          return this.dataOf<SettingsMasterDocument[]>(call, envelope, {
            kind: 'array',
            id: { name: 'name', type: 'string' },
          });
        },
      );
      return structuredClone(value);
    } catch (error) {
      if (isNotFoundError(error)) return [];
      throw error;
    }
  }

  /** The value of setting `name` for the context's store and terminal; `null` on 404. */
  async getSettingValueByName(context: TerminalContext, name: string): Promise<SettingValue | null> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getSettingValueByName',
      collection: 'settings master',
      key: String(name),
      route: '/tenants/:tenant/settings/:name/value',
      context,
      params: this.scope(context),
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/settings/${encodePathSegment(name)}/value`,
    };
    this.checkContext(call, context);
    try {
      const key = cacheKey(context.tenantId, context.storeCode, credentialOf(context), context.terminalNo, name);
      const { value } = await this.values.getOrLoad(key, async () => {
        const envelope = await this.fetchEnvelope(call);
        const data = this.dataOf<{ value: unknown }>(call, envelope, {
          kind: 'object',
          id: { name: 'value', type: 'string' },
        });
        return { name, value: data.value as string };
      });
      return { ...value };
    } catch (error) {
      if (isNotFoundError(error)) return null;
      throw error;
    }
  }

  /** Drops every cached setting. */
  clearCache(): void {
    this.lists.clear();
    this.values.clear();
  }

  private scope(context: TerminalContext): Record<string, string | number | undefined> {
    return { store_code: context.storeCode, terminal_no: context.terminalNo };
  }
}
