import { Inject, Injectable } from '@nestjs/common';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { TerminalInfoDocument } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { WebCall, WebRepository } from './web-repository';

/**
 * Terminals from the terminal service (report → terminal): `GET /terminals` (the store's
 * terminals, `limit=0&page=1&sort=terminal_no:1`) and `GET /terminals/{tenant}-{store}-{no}`.
 * Both send `store_code` and the terminal auth of the context (`terminal_id` included in API-key
 * mode). This repository goes with the API key when the context has both an API key and a JWT
 * (the other repositories prefer the JWT). Not cached.
 */
@Injectable()
export class TerminalInfoWebRepository extends WebRepository {
  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
  }

  /** Every terminal of the context's store, ordered by terminal number. */
  async getTerminalInfoList(context: TerminalContext): Promise<TerminalInfoDocument[]> {
    const call: WebCall = {
      service: this.repositoryOptions.services.terminal,
      operation: 'getTerminalInfoList',
      collection: 'terminal info',
      key: `${context?.tenantId}-${context?.storeCode}`,
      route: '/terminals',
      context,
      params: { store_code: context?.storeCode, limit: 0, page: 1, sort: 'terminal_no:1' },
      auth: 'terminal-api-key-first',
      path: () => '/terminals',
    };
    this.checkContext(call, context);
    return this.fetchData<TerminalInfoDocument[]>(call, {
      kind: 'array',
      id: { name: 'terminalId', type: 'string' },
    });
  }

  /**
   * Terminal `terminalNo` of the context's store (`{tenant}-{store}-{no}`). Rejects with
   * `NotFoundError` (404) or `RepositoryError`.
   */
  async getTerminalInfo(context: TerminalContext, terminalNo: number | string): Promise<TerminalInfoDocument> {
    const terminalId = `${context?.tenantId}-${context?.storeCode}-${terminalNo}`;
    const call: WebCall = {
      service: this.repositoryOptions.services.terminal,
      operation: 'getTerminalInfo',
      collection: 'terminal info',
      key: terminalId,
      route: '/terminals/:terminalId',
      context,
      params: { store_code: context?.storeCode },
      auth: 'terminal-api-key-first',
      path: () => `/terminals/${encodePathSegment(terminalId)}`,
    };
    this.checkContext(call, { ...context, terminalNo }, ['terminalNo']);
    return this.fetchData<TerminalInfoDocument>(call, {
      kind: 'object',
      id: { name: 'terminalId', type: 'string' },
    });
  }
}
