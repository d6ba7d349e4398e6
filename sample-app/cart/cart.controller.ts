import { BadRequestException, Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { TerminalContext } from '../../lib';
import { CartService } from './cart.service';

/**
 * The terminal's credentials come with each request, as in Kugelpos: `Authorization: Bearer <jwt>`
 * or `X-API-KEY` (plus `terminal_id`); the repositories forward them by the same rule. Without
 * either, the demo uses `SAMPLE_API_KEY` so that `curl` works out of the box.
 */
function contextOf(
  tenantId: string,
  storeCode: string,
  terminalNo: string,
  headers: Record<string, string | undefined>,
): TerminalContext {
  const no = Number(terminalNo);
  if (!Number.isInteger(no) || no < 1)
    throw new BadRequestException(`terminal number must be a positive integer, got ${JSON.stringify(terminalNo)}`);
  const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
  return {
    tenantId,
    storeCode,
    terminalNo: no,
    terminalId: `${tenantId}-${storeCode}-${no}`,
    jwtToken: bearer,
    apiKey: bearer ? undefined : (headers['x-api-key'] ?? process.env.SAMPLE_API_KEY ?? 'demo-terminal-key'),
  };
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new BadRequestException(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new BadRequestException(`${name} must be a non-empty string`);
  return value;
}

@Controller('api/v1/tenants/:tenantId/stores/:storeCode/terminals/:terminalNo')
export class CartController {
  constructor(private readonly carts: CartService) {}

  @Post('carts')
  create(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.create(contextOf(t, s, n, h));
  }

  @Get('carts/:cartId')
  get(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Param('cartId') id: string,
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.get(contextOf(t, s, n, h), id);
  }

  @Post('carts/:cartId/lineItems')
  addItem(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Param('cartId') id: string,
    @Body() body: { itemCode?: unknown; quantity?: unknown },
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.addItem(
      contextOf(t, s, n, h),
      id,
      text('itemCode', body?.itemCode),
      positive('quantity', body?.quantity ?? 1),
    );
  }

  @Post('carts/:cartId/payments')
  addPayment(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Param('cartId') id: string,
    @Body() body: { paymentCode?: unknown; amount?: unknown },
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.addPayment(
      contextOf(t, s, n, h),
      id,
      text('paymentCode', body?.paymentCode),
      positive('amount', body?.amount),
    );
  }

  @Post('carts/:cartId/bill')
  @HttpCode(200)
  bill(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Param('cartId') id: string,
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.bill(contextOf(t, s, n, h), id);
  }

  @Get('transactions')
  transactions(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Query('business_date') businessDate: string | undefined,
    @Query('open_counter') openCounter: string | undefined,
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.transactions(
      contextOf(t, s, n, h),
      businessDate ?? new Date().toISOString().slice(0, 10).replace(/-/g, ''),
      Number(openCounter ?? 1),
    );
  }
}
