import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { StockAlert } from '../alerts.interface';
import { StoreConnections } from './store-connections';

export const ALERT_COOLDOWN_MS = 'STOCK:ALERT_COOLDOWN_MS';

/** One item's stock in one store. */
export interface StockItem {
  itemCode: string;
  currentQuantity: number;
  reorderPoint: number;
  reorderQuantity: number;
  minimumQuantity: number;
}

/**
 * The stock of each store, in memory, and the Kugelpos stock service's alert rules: a reorder-point
 * alert when `reorderPoint > 0` and the quantity is at or below it; a minimum-stock alert when
 * `minimumQuantity > 0` and the quantity is below it. After a stock update, an alert is sent to the
 * store's subscribers at most once per item and kind within the cooldown (`ALERT_COOLDOWN_SECONDS`,
 * 60 s by default); the alerts sent on connect bypass it.
 */
@Injectable()
export class InventoryService {
  private readonly items = new Map<string, StockItem>();
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly connections: StoreConnections,
    @Inject(ALERT_COOLDOWN_MS) private readonly cooldownMs: number,
  ) {}

  set(tenantId: string, storeCode: string, item: StockItem): StockItem {
    this.items.set(itemKey(tenantId, storeCode, item.itemCode), { ...item });
    this.alertAfterUpdate(tenantId, storeCode, item);
    return item;
  }

  /** Adds `change` (negative for a sale) to the quantity, then sends the alerts it calls for. */
  update(tenantId: string, storeCode: string, itemCode: string, change: number): StockItem {
    const item = this.items.get(itemKey(tenantId, storeCode, itemCode));
    if (!item) throw new NotFoundException(`no stock for item ${itemCode} in ${tenantId}/${storeCode}`);
    item.currentQuantity += change;
    this.alertAfterUpdate(tenantId, storeCode, item);
    return { ...item };
  }

  /** Every alert that holds now for the store (sent to a new subscriber). */
  currentAlerts(tenantId: string, storeCode: string): StockAlert[] {
    const prefix = itemKey(tenantId, storeCode, '');
    const out: StockAlert[] = [];
    for (const [key, item] of this.items) {
      if (key.startsWith(prefix)) out.push(...alertsFor(tenantId, storeCode, item));
    }
    return out;
  }

  private alertAfterUpdate(tenantId: string, storeCode: string, item: StockItem): void {
    const now = Date.now();
    for (const [key, at] of this.lastSent) if (now - at >= this.cooldownMs) this.lastSent.delete(key);
    for (const alert of alertsFor(tenantId, storeCode, item)) {
      const key = `${itemKey(tenantId, storeCode, item.itemCode)}\u0000${alert.alert_type}`;
      if (this.lastSent.has(key)) continue;
      this.lastSent.set(key, now);
      this.connections.broadcast(tenantId, storeCode, alert);
    }
  }
}

function alertsFor(tenantId: string, storeCode: string, item: StockItem): StockAlert[] {
  const base = {
    type: 'stock_alert' as const,
    tenant_id: tenantId,
    store_code: storeCode,
    item_code: item.itemCode,
    current_quantity: item.currentQuantity,
    reorder_quantity: item.reorderQuantity,
    timestamp: new Date().toISOString(),
  };
  const alerts: StockAlert[] = [];
  if (item.reorderPoint > 0 && item.currentQuantity <= item.reorderPoint) {
    alerts.push({ ...base, alert_type: 'reorder_point', reorder_point: item.reorderPoint });
  }
  if (item.minimumQuantity > 0 && item.currentQuantity < item.minimumQuantity) {
    alerts.push({ ...base, alert_type: 'minimum_stock', minimum_quantity: item.minimumQuantity });
  }
  return alerts;
}

function itemKey(tenantId: string, storeCode: string, itemCode: string): string {
  return `${tenantId}\u0000${storeCode}\u0000${itemCode}`;
}
