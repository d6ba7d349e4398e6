import { Inject, Injectable } from '@nestjs/common';
import { ServiceTokenService } from '../auth/service-token.service';
import { DeliveryCallbackStatus } from '../delivery/delivery-status';
import { RepositoryError } from '../errors/repository.error';
import { HttpClientHelper } from '../http/http-client.helper';
import { encodePathSegment } from '../input/path';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../options/resolved-options.interface';
import { DeliveryAck } from './documents.interface';
import { WebCall, WebRepository } from './web-repository';

/** What a consumer reports about one event. */
export interface DeliveryNotice {
  /** The publisher's `event_id`. */
  eventId: string;
  /** The consumer's service name (`report`, `journal`, `stock`). */
  service: string;
  status: DeliveryCallbackStatus;
  /** Why, for `failed` (sent as `message`; never put a secret in it). */
  message?: string;
}

/** Where a transaction log came from: its terminal and transaction number. */
export interface TranlogOrigin {
  tenantId: string;
  storeCode: string;
  terminalNo: number | string;
  transactionNo: number | string;
}

/** Where a cash or open/close log came from: its terminal (`terminalId` = `{tenant}-{store}-{no}`). */
export type TerminalLogOrigin =
  { terminalId: string } | { tenantId: string; storeCode: string; terminalNo: number | string };

/**
 * The consumer's callback to the publisher: "I received
 * event X" or "I failed on it", so that the publisher rolls up its delivery status and stops
 * republishing what everyone has.
 *
 * - transaction logs → cart: `POST /tenants/{t}/stores/{s}/terminals/{no}/transactions/{txno}/delivery-status`;
 * - cash and open/close logs → terminal: `POST /terminals/{terminal_id}/delivery-status`;
 *
 * both with the body `{ event_id, service, status, message }` and the query `terminal_id`. Auth: a
 * service token for the tenant (`auth.serviceToken`) as a bearer, or — only when no service token
 * is configured — the API key (`auth.apiKey`, the one the publisher checks callbacks with). 404 → `NotFoundError`, anything else → `RepositoryError`; nothing is
 * cached.
 */
@Injectable()
export class DeliveryStatusWebRepository extends WebRepository {
  constructor(
    http: HttpClientHelper,
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) options: ResolvedKugelCommsOptions,
    private readonly tokens: ServiceTokenService,
  ) {
    super(http, options.repositories);
  }

  /** Reports `notice` about a transaction log to the cart service. */
  async notifyTranlogDelivery(origin: TranlogOrigin, notice: DeliveryNotice): Promise<DeliveryAck> {
    const terminalId = `${origin?.tenantId}-${origin?.storeCode}-${origin?.terminalNo}`;
    const call = this.callbackCall('notifyTranlogDelivery', {
      service: this.repositoryOptions.services.cart,
      tenantId: origin?.tenantId,
      storeCode: origin?.storeCode,
      terminalId,
      notice,
      route: '/tenants/:tenant/stores/:store/terminals/:terminalNo/transactions/:transactionNo/delivery-status',
      path: () =>
        `/tenants/${encodePathSegment(origin.tenantId)}/stores/${encodePathSegment(origin.storeCode)}` +
        `/terminals/${encodePathSegment(String(origin.terminalNo))}` +
        `/transactions/${encodePathSegment(String(origin.transactionNo))}/delivery-status`,
    });
    this.checkOrigin(call, origin, ['terminalNo', 'transactionNo']);
    return this.send(call);
  }

  /** Reports `notice` about a cash or open/close log to the terminal service. */
  async notifyTerminalLogDelivery(origin: TerminalLogOrigin, notice: DeliveryNotice): Promise<DeliveryAck> {
    const terminalId =
      origin && 'terminalId' in origin
        ? origin.terminalId
        : `${origin?.tenantId}-${origin?.storeCode}-${origin?.terminalNo}`;
    // The terminal service takes the tenant from the text before the first "-" of the terminal id.
    const tenantId = origin && 'tenantId' in origin ? origin.tenantId : String(terminalId).split('-')[0];
    const storeCode = origin && 'storeCode' in origin ? origin.storeCode : String(terminalId).split('-')[1];
    const call = this.callbackCall('notifyTerminalLogDelivery', {
      service: this.repositoryOptions.services.terminal,
      tenantId,
      storeCode,
      terminalId,
      notice,
      route: '/terminals/:terminalId/delivery-status',
      path: () => `/terminals/${encodePathSegment(terminalId)}/delivery-status`,
    });
    if (origin && !('terminalId' in origin)) {
      // Built from its parts: each checked like every terminal id (a missing terminalNo, a "-" in
      // the tenant or store code refused, naming the field).
      this.checkContext(call, origin as unknown as WebCall['context'], ['terminalNo']);
    } else if (typeof terminalId !== 'string' || !/^[^-]+-[^-]+-.+$/.test(terminalId)) {
      throw this.refuse(call, 'the terminal id must be "{tenant}-{store}-{no}"');
    }
    return this.send(call);
  }

  private callbackCall(
    operation: string,
    o: {
      service: string;
      tenantId: string;
      storeCode: string;
      terminalId: string;
      notice: DeliveryNotice;
      route: string;
      path: () => string;
    },
  ): WebCall & { notice: DeliveryNotice } {
    return {
      service: o.service,
      operation,
      collection: 'delivery status',
      key: String(o.notice?.eventId),
      route: o.route,
      context: { tenantId: o.tenantId, storeCode: o.storeCode, terminalId: o.terminalId },
      params: { terminal_id: o.terminalId },
      method: 'POST',
      body: o.notice && {
        event_id: o.notice.eventId,
        service: o.notice.service,
        status: o.notice.status,
        message: o.notice.message ?? '',
      },
      path: o.path,
      notice: o.notice,
    };
  }

  private async send(call: WebCall & { notice: DeliveryNotice }): Promise<DeliveryAck> {
    this.checkNotice(call);
    let headers: Record<string, string>;
    try {
      headers = this.tokens.serviceAuthHeaders(call.context.tenantId, call.notice.service);
    } catch (error) {
      throw this.refuse(call, (error as Error).message);
    }
    return this.fetchData<DeliveryAck>({ ...call, auth: { headers } }, { kind: 'object' });
  }

  private checkOrigin(call: WebCall, origin: TranlogOrigin, needs: Array<'terminalNo' | 'transactionNo'>): void {
    this.checkContext(call, origin as unknown as WebCall['context'], ['terminalNo']);
    for (const field of needs) {
      const v = origin[field];
      if (!((typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length > 0)))
        throw this.refuse(call, `origin.${field} must be a number or a non-empty string`);
    }
  }

  private checkNotice(call: WebCall & { notice: DeliveryNotice }): void {
    const n = call.notice;
    if (typeof n !== 'object' || n === null) throw this.refuse(call, 'the notice is missing');
    if (typeof n.eventId !== 'string' || n.eventId.length === 0)
      throw this.refuse(call, 'notice.eventId must be a non-empty string');
    if (typeof n.service !== 'string' || n.service.length === 0)
      throw this.refuse(call, 'notice.service must be a non-empty string');
    if (n.status !== 'received' && n.status !== 'failed')
      throw this.refuse(call, 'notice.status must be "received" or "failed"');
    if (n.message !== undefined && typeof n.message !== 'string')
      throw this.refuse(call, 'notice.message must be a string');
  }

  private refuse(call: Pick<WebCall, 'operation' | 'collection'>, why: string): RepositoryError {
    return new RepositoryError(`${call.collection}: ${call.operation}: ${why} (nothing was sent)`, {
      collection: call.collection,
      operation: call.operation,
    });
  }
}
