/** What the stock service sends on its alert WebSocket (the Kugelpos stock service's message shapes). */

/** First message after a connection is accepted. */
export interface ConnectionMessage {
  type: 'connection';
  status: 'connected';
  tenant_id: string;
  store_code: string;
  message: string;
}

/** An item at or below its reorder point, or below its minimum. */
export interface StockAlert {
  type: 'stock_alert';
  alert_type: 'reorder_point' | 'minimum_stock';
  tenant_id: string;
  store_code: string;
  item_code: string;
  current_quantity: number;
  /** `reorder_point` alerts. */
  reorder_point?: number;
  /** `minimum_stock` alerts. */
  minimum_quantity?: number;
  reorder_quantity: number;
  /** ISO time, UTC. */
  timestamp: string;
}

export type AlertChannelMessage = ConnectionMessage | StockAlert;
