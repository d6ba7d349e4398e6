import { Inject, Injectable } from '@nestjs/common';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { ItemMasterDocument } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { RepositoryCache } from './repository-cache';
import { WebCall, WebRepository } from './web-repository';

/**
 * Items from master-data (cart → master-data):
 * `GET /tenants/{tenant}/stores/{store}/items/{code}/details`.
 *
 * Cached per tenant, store and item code for `repositories.cacheTtlMs` (300 s by default);
 * failures are never cached. Every call returns its own
 * copy, so a caller changing it does not change the cache.
 */
@Injectable()
export class ItemMasterWebRepository extends WebRepository {
  private readonly cache: RepositoryCache<ItemMasterDocument>;

  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
    this.cache = this.newCache();
  }

  /**
   * The item `itemCode` of the context's store. Rejects with `NotFoundError` (404) or
   * `RepositoryError` (any other failure, or a malformed answer).
   */
  async getItemByCode(context: TerminalContext, itemCode: string): Promise<ItemMasterDocument> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getItemByCode',
      collection: 'item master',
      key: String(itemCode),
      route: '/tenants/:tenant/stores/:store/items/:code/details',
      context,
      path: () =>
        `/tenants/${encodePathSegment(context.tenantId)}/stores/${encodePathSegment(context.storeCode)}/items/${encodePathSegment(itemCode)}/details`,
    };
    this.checkContext(call, context);
    return this.cached(this.cache, context, [itemCode], () =>
      this.fetchData<ItemMasterDocument>(call, { kind: 'object', id: { name: 'itemCode', type: 'string' } }),
    );
  }

  /** Drops every cached item (e.g. after a master-data change notification). */
  clearCache(): void {
    this.cache.clear();
  }
}
