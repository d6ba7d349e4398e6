import { Body, Controller, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { CartService } from './cart.service';
import { contextOf, optionalText, positive, text } from './terminal-context';

@Controller('api/v1/tenants/:tenantId/stores/:storeCode/terminals/:terminalNo')
export class CartController {
  constructor(private readonly carts: CartService) {}

  /** Body (optional), as the Kugelpos cart's: `{ userId?, userName? }`, who opens the cart. */
  @Post('carts')
  create(
    @Param('tenantId') t: string,
    @Param('storeCode') s: string,
    @Param('terminalNo') n: string,
    @Body() body: { userId?: unknown; userName?: unknown } | undefined,
    @Headers() h: Record<string, string>,
  ) {
    return this.carts.create(contextOf(t, s, n, h), {
      id: optionalText('userId', body?.userId),
      name: optionalText('userName', body?.userName),
    });
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
}
