import { Inject, Injectable } from '@nestjs/common';
import { isNotFoundError } from '../errors/not-found.error';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { SettingsMasterDocument, SettingValue } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { RepositoryCache } from './repository-cache';
import { WebCall, WebRepository } from './web-repository';

/**
 * Settings from master-data (cart → master-data):
 * - `GET /tenants/{tenant}/settings?limit=0`: every setting of the tenant, each with its values
 *   per store and terminal. The route takes `limit`, `page` and `sort` only, and answers a page of
 *   100 without a `limit`: its own "no limit" (`limit=0`) is asked for.
 * - `GET /tenants/{tenant}/settings/{name}/value?store_code=&terminal_no=`: the value in effect for
 *   the context's store and terminal. The route requires both, so a context without a terminal
 *   number is refused before anything is sent (the route would answer 422).
 *
 * A 404 is not an error here: the list is then empty and a value `null`. The list
 * is cached per tenant and store, a value per tenant, store, terminal and name, for
 * `repositories.cacheTtlMs`; 404s and failures are not cached.
 */
@Injectable()
export class SettingsMasterWebRepository extends WebRepository {
  private readonly lists: RepositoryCache<SettingsMasterDocument[]>;
  private readonly values: RepositoryCache<SettingValue>;

  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
    this.lists = this.newCache();
    this.values = this.newCache();
  }

  /** Every setting of the tenant (each with its values per store and terminal); `[]` on 404. */
  async getAllSettings(context: TerminalContext): Promise<SettingsMasterDocument[]> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getAllSettings',
      collection: 'settings master',
      key: '*',
      route: '/tenants/:tenant/settings',
      context,
      params: { limit: 0 },
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/settings`,
    };
    this.checkContext(call, context);
    try {
      return await this.cached(this.lists, context, [], () =>
        this.fetchData<SettingsMasterDocument[]>(call, { kind: 'array', id: { name: 'name', type: 'string' } }),
      );
    } catch (error) {
      if (isNotFoundError(error)) return [];
      throw error;
    }
  }

  /** The value of setting `name` in effect for the context's store and terminal (`terminalNo` required); `null` on 404. */
  async getSettingValueByName(context: TerminalContext, name: string): Promise<SettingValue | null> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getSettingValueByName',
      collection: 'settings master',
      key: String(name),
      route: '/tenants/:tenant/settings/:name/value',
      context,
      params: { store_code: context?.storeCode, terminal_no: context?.terminalNo },
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/settings/${encodePathSegment(name)}/value`,
    };
    this.checkContext(call, context, ['terminalNo']);
    try {
      return await this.cached(this.values, context, [context.terminalNo, name], async () => {
        const data = await this.fetchData<{ value: unknown }>(call, {
          kind: 'object',
          id: { name: 'value', type: 'string' },
        });
        return { name, value: data.value as string };
      });
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
}
