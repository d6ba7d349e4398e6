import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/**
 * Lets the service's HTTP server close as soon as its last request in flight is answered.
 *
 * Node's `server.close()` closes the connections idle at that moment only; one still serving a
 * request (a delivery from the sidecar, a probe) stays open after its answer until the server's
 * keep-alive timeout (5 s) ends it, and `app.close()` waits for it. Under load that is several
 * seconds of a pod that no longer accepts work but has not exited. This provider closes idle
 * connections every 50 ms from the start of the shutdown until the server has closed: a request
 * in flight is still answered in full; only connections with nothing in flight are closed.
 *
 * Nest's `forceCloseConnections` is not the same thing: it destroys sockets with requests in flight.
 */
@Injectable()
export class PromptHttpShutdown implements BeforeApplicationShutdown {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening || typeof server.closeIdleConnections !== 'function') return;
    const timer = setInterval(() => server.closeIdleConnections(), 50);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  }
}
