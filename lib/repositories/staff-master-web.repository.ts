import { Inject, Injectable } from '@nestjs/common';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { StaffMasterDocument } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { WebCall, WebRepository } from './web-repository';

/** Staff from master-data: `GET /tenants/{tenant}/staff/{id}`. Not cached. */
@Injectable()
export class StaffMasterWebRepository extends WebRepository {
  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
  }

  /** The staff member `staffId`. Rejects with `NotFoundError` (404) or `RepositoryError`. */
  async getStaffById(context: TerminalContext, staffId: string): Promise<StaffMasterDocument> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getStaffById',
      collection: 'staff master',
      key: String(staffId),
      route: '/tenants/:tenant/staff/:id',
      context,
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/staff/${encodePathSegment(staffId)}`,
    };
    this.checkContext(call, context);
    return this.fetchData<StaffMasterDocument>(call, {
      kind: 'object',
      id: { name: 'id', type: 'string' },
    });
  }
}
