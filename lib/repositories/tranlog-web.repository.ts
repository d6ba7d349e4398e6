import { Inject, Injectable } from '@nestjs/common';
import { RepositoryError } from '../errors/repository.error';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { TransactionDocument } from './documents.interface';
import { PaginatedResult, TerminalContext } from './repository.interfaces';
import { terminalIdOf, WebCall, WebRepository } from './web-repository';

/** Filter and page of `TranlogWebRepository.getTranlogList`. */
export interface TranlogQuery {
  /** Business date, `YYYYMMDD`. */
  businessDate: string;
  openCounter: number;
  /** Only these transaction types (sent as repeated `transaction_type`). */
  transactionTypes?: number[];
  /** Page size; 0 = everything. @default 0 */
  limit?: number;
  /** 1-based page. @default 1 */
  page?: number;
  /** Sort order, sent as `field:1,field:-1`. */
  sort?: Array<[field: string, direction: 1 | -1]>;
  /** @default false */
  includeCancelled?: boolean;
}

/**
 * Transaction logs of a terminal from the cart (terminal → cart):
 * `GET /tenants/{tenant}/stores/{store}/terminals/{no}/transactions`, paginated. `terminal_id` is
 * always sent (also with a JWT). Not cached.
 */
@Injectable()
export class TranlogWebRepository extends WebRepository {
  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
  }

  /**
   * One page of the transactions of the context's terminal (`context.terminalNo` is required).
   * Rejects with `NotFoundError` (404) or `RepositoryError` (other failures, an envelope without
   * `data` array or `metadata.total`).
   */
  async getTranlogList(context: TerminalContext, query: TranlogQuery): Promise<PaginatedResult<TransactionDocument>> {
    const limit = query?.limit ?? 0;
    const page = query?.page ?? 1;
    const call: WebCall = {
      service: this.repositoryOptions.services.cart,
      operation: 'getTranlogList',
      collection: 'tranlog',
      key: `${context?.tenantId}-${context?.storeCode}-${context?.terminalNo}/${query?.businessDate}`,
      route: '/tenants/:tenant/stores/:store/terminals/:no/transactions',
      context,
      path: () =>
        `/tenants/${encodePathSegment(context.tenantId)}/stores/${encodePathSegment(context.storeCode)}` +
        `/terminals/${encodePathSegment(context.terminalNo as string | number)}/transactions`,
    };
    this.checkContext(call, context, ['terminalNo']);
    this.checkQuery(call, query, limit, page);
    call.params = {
      terminal_id: terminalIdOf(context),
      business_date: query.businessDate,
      open_counter: query.openCounter,
      include_cancelled: query.includeCancelled ?? false,
      limit,
      page,
      transaction_type: query.transactionTypes,
      sort: query.sort?.length ? query.sort.map(([field, direction]) => `${field}:${direction}`).join(',') : undefined,
    };
    const envelope = await this.fetchEnvelope(call);
    const data = this.dataOf<TransactionDocument[]>(call, envelope, {
      kind: 'array',
      id: { name: 'transactionNo', type: 'number' },
    });
    const metadata = envelope.metadata as Record<string, unknown> | undefined;
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      const what = metadata === undefined ? 'missing' : metadata === null ? 'null' : 'not an object';
      throw this.malformed(call, `"metadata" is ${what}, expected { total, ... }`);
    }
    const total = metadata.total;
    if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) {
      throw this.malformed(
        call,
        `"metadata.total" is ${total === undefined ? 'missing' : `not a count (${typeof total})`}`,
      );
    }
    return { data, metadata: { total, page, limit } };
  }

  private checkQuery(call: WebCall, query: TranlogQuery, limit: number, page: number): void {
    const fail = (why: string) =>
      new RepositoryError(`tranlog: getTranlogList: ${why} (nothing was sent)`, {
        collection: call.collection,
        operation: call.operation,
      });
    if (typeof query !== 'object' || query === null) throw fail('the query is missing');
    if (typeof query.businessDate !== 'string' || !/^\d{8}$/.test(query.businessDate))
      throw fail('businessDate must be YYYYMMDD');
    if (!Number.isSafeInteger(query.openCounter)) throw fail('openCounter must be an integer');
    if (!Number.isSafeInteger(limit) || limit < 0) throw fail('limit must be an integer ≥ 0');
    if (!Number.isSafeInteger(page) || page < 1) throw fail('page must be an integer ≥ 1');
    if (
      query.transactionTypes !== undefined &&
      (!Array.isArray(query.transactionTypes) || !query.transactionTypes.every(Number.isSafeInteger))
    ) {
      throw fail('transactionTypes must be an array of integers');
    }
    if (
      query.sort !== undefined &&
      (!Array.isArray(query.sort) ||
        !query.sort.every(
          (s) =>
            Array.isArray(s) &&
            typeof s[0] === 'string' &&
            /^[A-Za-z0-9_.]+$/.test(s[0]) &&
            (s[1] === 1 || s[1] === -1),
        ))
    ) {
      throw fail('sort must be an array of [field, 1 | -1]');
    }
  }
}
