import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { StockAlert } from '../alerts.interface';

/** The alert subscribers of each store, in process memory (tenant → store → sockets), as Kugelpos keeps them. */
@Injectable()
export class StoreConnections {
  private readonly stores = new Map<string, Set<WebSocket>>();

  add(tenantId: string, storeCode: string, socket: WebSocket): void {
    const key = storeKey(tenantId, storeCode);
    const set = this.stores.get(key) ?? new Set<WebSocket>();
    set.add(socket);
    this.stores.set(key, set);
  }

  remove(socket: WebSocket): void {
    for (const [key, set] of this.stores) {
      set.delete(socket);
      if (set.size === 0) this.stores.delete(key);
    }
  }

  /** Sends `alert` to every open socket of the store; returns how many got it. */
  broadcast(tenantId: string, storeCode: string, alert: StockAlert): number {
    const text = JSON.stringify(alert);
    let sent = 0;
    for (const socket of this.stores.get(storeKey(tenantId, storeCode)) ?? []) {
      if (socket.readyState !== socket.OPEN) continue;
      socket.send(text);
      sent += 1;
    }
    return sent;
  }
}

function storeKey(tenantId: string, storeCode: string): string {
  return `${tenantId}\u0000${storeCode}`;
}
