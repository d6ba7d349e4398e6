import { Inject, Injectable } from '@nestjs/common';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { PaymentMasterDocument } from './documents.interface';
import { TerminalContext } from './repository.interfaces';
import { RepositoryCache } from './repository-cache';
import { WebCall, WebRepository } from './web-repository';

/**
 * Payment methods from master-data (cart → master-data): `GET /tenants/{tenant}/payments/{code}`.
 *
 * Every fetched payment is cached per tenant, store and code, and the entries expire after
 * `repositories.cacheTtlMs` (300 s by default) like the item cache, so a change in master-data
 * is seen without a restart. `preload` seeds the cache.
 * Every call returns its own copy of the document.
 */
@Injectable()
export class PaymentMasterWebRepository extends WebRepository {
  private readonly cache: RepositoryCache<PaymentMasterDocument>;

  constructor(http: HttpClientHelper, @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions) {
    super(http, options.repositories);
    this.cache = this.newCache();
  }

  /** The payment method `paymentCode`. Rejects with `NotFoundError` (404) or `RepositoryError`. */
  async getPaymentByCode(context: TerminalContext, paymentCode: string): Promise<PaymentMasterDocument> {
    const call: WebCall = {
      service: this.repositoryOptions.services.masterData,
      operation: 'getPaymentByCode',
      collection: 'payment master',
      key: String(paymentCode),
      route: '/tenants/:tenant/payments/:code',
      context,
      path: () => `/tenants/${encodePathSegment(context.tenantId)}/payments/${encodePathSegment(paymentCode)}`,
    };
    this.checkContext(call, context);
    return this.cached(this.cache, context, [paymentCode], () =>
      this.fetchData<PaymentMasterDocument>(call, { kind: 'object', id: { name: 'paymentCode', type: 'string' } }),
    );
  }

  /** Seeds the cache of the context's tenant, store and credential (entries expire like fetched ones). */
  preload(
    context: Pick<TerminalContext, 'tenantId' | 'storeCode' | 'apiKey' | 'jwtToken'>,
    payments: PaymentMasterDocument[],
  ): void {
    for (const payment of payments) {
      this.cache.set(this.cacheKeyFor(context, payment.paymentCode), structuredClone(payment));
    }
  }

  /** Drops every cached payment. */
  clearCache(): void {
    this.cache.clear();
  }
}
