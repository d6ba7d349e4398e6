import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
// In an application: `from 'kugel-comms'`.
import { pathOf, RealtimeClient, RealtimeConnection, RealtimeMessage, ServiceTokenService } from '../../../lib';
import { AlertChannelMessage, StockAlert } from '../alerts.interface';

export const MONITOR_STORE = 'MONITOR:STORE';

/** The store whose alerts the monitor follows. */
export interface MonitoredStore {
  tenantId: string;
  storeCode: string;
  /** How many alerts to keep. */
  keep: number;
}

/**
 * Subscribes to the stock service's alerts through `RealtimeClient`, the way the Kugelpos stock
 * service's clients do: `/ws/{tenant}/{store}` under `BASE_URL_STOCK`, the JWT in the query string
 * (a service token minted again for every reconnect). Alerts are logged and the last `keep` are kept for
 * `GET /api/v1/alerts`. The connection reconnects by itself and is closed on shutdown.
 */
@Injectable()
export class AlertMonitorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AlertMonitorService.name);
  private readonly alerts: StockAlert[] = [];
  private pongs = 0;
  private connection?: RealtimeConnection;

  constructor(
    private readonly realtime: RealtimeClient,
    private readonly tokens: ServiceTokenService,
    @Inject(MONITOR_STORE) private readonly store: MonitoredStore,
  ) {}

  onApplicationBootstrap(): void {
    const { tenantId, storeCode } = this.store;
    const connection = this.realtime.connect('stock', pathOf`/ws/${tenantId}/${storeCode}`, {
      // The token in the query, as the stock service expects it (logged as token=***).
      query: () => ({ token: this.tokens.createServiceToken(tenantId, 'stock-monitor') }),
    });
    connection.onMessage.on((m) => this.received(m));
    // The stock service's text keep-alive, on top of the WebSocket pings the client sends by itself.
    connection.onOpen.on(() => {
      connection.send('ping').catch((e: Error) => this.logger.warn(`ping not sent: ${e.message}`));
    });
    this.connection = connection;
  }

  /** The last alerts, newest last, with the connection's state. */
  view(): { tenant_id: string; store_code: string; connection: string; pongs: number; alerts: StockAlert[] } {
    return {
      tenant_id: this.store.tenantId,
      store_code: this.store.storeCode,
      connection: this.connection?.state ?? 'not started',
      pongs: this.pongs,
      alerts: [...this.alerts],
    };
  }

  private received(m: RealtimeMessage): void {
    if (m.data === 'pong') {
      this.pongs += 1;
      return;
    }
    let message: AlertChannelMessage;
    try {
      message = JSON.parse(String(m.data)) as AlertChannelMessage;
    } catch {
      this.logger.warn(`not JSON from the stock service (${m.bytes} bytes): ignored`);
      return;
    }
    if (message.type === 'connection') {
      this.logger.log(`subscribed: ${message.message}`);
    } else if (message.type === 'stock_alert') {
      this.alerts.push(message);
      if (this.alerts.length > this.store.keep) this.alerts.splice(0, this.alerts.length - this.store.keep);
      const limit =
        message.alert_type === 'reorder_point'
          ? `reorder point ${message.reorder_point}`
          : `minimum ${message.minimum_quantity}`;
      this.logger.warn(
        `stock alert ${message.alert_type}: ${message.tenant_id}/${message.store_code} item ${message.item_code} at ${message.current_quantity} (${limit}, reorder ${message.reorder_quantity})`,
      );
    }
  }
}
