import { Inject, Logger } from '@nestjs/common';
import { OnGatewayConnection, OnGatewayDisconnect, WebSocketGateway } from '@nestjs/websockets';
import { IncomingMessage } from 'node:http';
import * as jwt from 'jsonwebtoken';
import type { WebSocket } from 'ws';
import { ConnectionMessage } from '../alerts.interface';
import { InventoryService } from './inventory.service';
import { matchPath } from './path-params-ws.adapter';
import { StoreConnections } from './store-connections';

export const ALERTS_PATH = '/api/v1/ws/:tenant_id/:store_code';
export const STOCK_SECRET_KEY = 'STOCK:SECRET_KEY';

/**
 * The stock service's alert WebSocket, as the Kugelpos one serves it:
 * `/api/v1/ws/{tenant_id}/{store_code}?token=<JWT>`.
 * The connection is accepted, then the token is verified (HS256) and its `tenant_id` claim must be
 * the path's tenant; otherwise it is closed with 1008 and the Kugelpos reason. Then it gets
 * `{type: "connection", ...}` and the store's current alerts; later alerts follow stock updates.
 * A text "ping" is answered "pong". The token is never logged.
 */
@WebSocketGateway({ path: ALERTS_PATH })
export class StockAlertsGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(StockAlertsGateway.name);

  constructor(
    private readonly connections: StoreConnections,
    private readonly inventory: InventoryService,
    @Inject(STOCK_SECRET_KEY) private readonly secret: string,
  ) {}

  handleConnection(client: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'ws://localhost');
    const params = matchPath(ALERTS_PATH, url.pathname) ?? {};
    const tenantId = params.tenant_id ?? '';
    const storeCode = params.store_code ?? '';
    const token = url.searchParams.get('token');
    if (!token) return this.refuse(client, tenantId, storeCode, 'No token provided');
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, this.secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    } catch {
      return this.refuse(client, tenantId, storeCode, 'Authentication failed');
    }
    if (claims.tenant_id !== tenantId) return this.refuse(client, tenantId, storeCode, 'Tenant ID mismatch');

    this.connections.add(tenantId, storeCode, client);
    client.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'ping') client.send('pong');
    });
    const hello: ConnectionMessage = {
      type: 'connection',
      status: 'connected',
      tenant_id: tenantId,
      store_code: storeCode,
      message: `Connected to stock alerts for ${tenantId}/${storeCode}`,
    };
    client.send(JSON.stringify(hello));
    // The current alerts go through the store broadcast (every subscriber of the
    // store gets them again) and bypass the cooldown.
    for (const alert of this.inventory.currentAlerts(tenantId, storeCode)) {
      this.connections.broadcast(tenantId, storeCode, alert);
    }
    this.logger.log(`alert subscriber ${String(claims.sub ?? 'unknown')} connected to ${tenantId}/${storeCode}`);
  }

  handleDisconnect(client: WebSocket): void {
    this.connections.remove(client);
  }

  private refuse(client: WebSocket, tenantId: string, storeCode: string, reason: string): void {
    this.logger.warn(`alert subscriber for ${tenantId}/${storeCode} refused: ${reason}`);
    client.close(1008, reason);
  }
}
