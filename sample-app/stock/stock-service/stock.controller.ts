import { BadRequestException, Body, Controller, HttpCode, Param, Post, Put } from '@nestjs/common';
import { InventoryService, StockItem } from './inventory.service';

function count(name: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new BadRequestException(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Stock updates (what the Kugelpos stock service does after each sale), which raise the alerts. */
@Controller('api/v1/tenants/:tenant/stores/:store/stock')
export class StockController {
  constructor(private readonly inventory: InventoryService) {}

  /** Sets an item's stock and thresholds. */
  @Put(':item')
  set(
    @Param('tenant') tenant: string,
    @Param('store') store: string,
    @Param('item') item: string,
    @Body() body: Partial<StockItem>,
  ): StockItem {
    return this.inventory.set(tenant, store, {
      itemCode: item,
      currentQuantity: count('currentQuantity', body?.currentQuantity),
      reorderPoint: count('reorderPoint', body?.reorderPoint ?? 0),
      reorderQuantity: count('reorderQuantity', body?.reorderQuantity ?? 0),
      minimumQuantity: count('minimumQuantity', body?.minimumQuantity ?? 0),
    });
  }

  /** Adds `quantityChange` (negative for a sale) to the item's quantity. */
  @Post(':item/update')
  @HttpCode(200)
  update(
    @Param('tenant') tenant: string,
    @Param('store') store: string,
    @Param('item') item: string,
    @Body() body: { quantityChange?: unknown },
  ): StockItem {
    const change = body?.quantityChange;
    if (typeof change !== 'number' || !Number.isInteger(change)) {
      throw new BadRequestException(`quantityChange must be an integer, got ${JSON.stringify(change)}`);
    }
    return this.inventory.update(tenant, store, item, change);
  }
}
