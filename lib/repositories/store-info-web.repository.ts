import { Inject, Injectable } from '@nestjs/common';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { StoreInfoDocument } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { WebCall, WebRepository } from './web-repository';

/** The store of the terminal, from the terminal service: `GET /tenants/{tenant}/stores/{store}`. Not cached. */
@Injectable()
export class StoreInfoWebRepository extends WebRepository {
  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
  }

  /** The context's store. Rejects with `NotFoundError` (404) or `RepositoryError`. */
  async getStoreInfo(context: TerminalContext): Promise<StoreInfoDocument> {
    const call: WebCall = {
      service: this.repositoryOptions.services.terminal,
      operation: 'getStoreInfo',
      collection: 'store info',
      key: String(context?.storeCode),
      route: '/tenants/:tenant/stores/:store',
      context,
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/stores/${encodePathSegment(context.storeCode)}`,
    };
    this.checkContext(call, context);
    return this.fetchData<StoreInfoDocument>(call, {
      kind: 'object',
      id: { name: 'storeCode', type: 'string' },
    });
  }
}
