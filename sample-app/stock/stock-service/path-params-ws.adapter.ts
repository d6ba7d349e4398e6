import { WsAdapter } from '@nestjs/platform-ws';
import * as http from 'node:http';
import { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';

/**
 * `WsAdapter` for gateways whose `path` has parameters (`/api/v1/ws/:tenant_id/:store_code`, the
 * original's alert path): Nest's adapter routes an upgrade only to a gateway whose path is exactly
 * the request's. Everything else is Nest's: the gateways, their lifecycle and `ws` underneath.
 * An upgrade that matches no gateway is refused with 404.
 */
export class PathParamsWsAdapter extends WsAdapter {
  protected override ensureHttpServerExists(
    port: number,
    httpServer: http.Server = http.createServer(),
  ): http.Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const pathname = new URL(request.url ?? '/', 'ws://localhost').pathname;
      const servers = (this.wsServersRegistry.get(port) ?? []) as Array<WebSocketServer & { path: string }>;
      const target = servers.find((s) => matchPath(s.path, pathname) !== undefined);
      if (!target) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      target.handleUpgrade(request, socket, head, (ws) => target.emit('connection', ws, request));
    });
    return httpServer;
  }
}

/** The parameters of `pathname` under `template` (`:name` segments), or undefined when it does not match. */
export function matchPath(template: string, pathname: string): Record<string, string> | undefined {
  const want = template.split('/').filter(Boolean);
  const got = pathname.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(':')) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}
