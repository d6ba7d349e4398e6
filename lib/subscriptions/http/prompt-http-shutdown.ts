import { BeforeApplicationShutdown, Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { KUGEL_COMMS_RESOLVED_OPTIONS } from '../../kugel-comms.constants';
import { ResolvedKugelCommsOptions } from '../../options/resolved-options.interface';

/**
 * Lets the app's HTTP server close as soon as its last request in flight is answered
 * (`subscriptions.closeIdleConnections`, on by default): from `beforeApplicationShutdown`, which
 * Nest runs before it closes the server, idle connections are closed every 50 ms until the server
 * has closed. Without it a keep-alive connection that served a delivery stays open until the
 * server's keep-alive timeout (5 s), and daprd keeps sending deliveries over it meanwhile.
 */
@Injectable()
export class PromptHttpShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(KUGEL_COMMS_RESOLVED_OPTIONS) private readonly options: ResolvedKugelCommsOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  beforeApplicationShutdown(): void {
    if (!this.options.subscriptions.closeIdleConnections) return;
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening || typeof server.closeIdleConnections !== 'function') return;
    const timer = setInterval(() => server.closeIdleConnections(), 50);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  }
}
