import { Controller, Get, Header, NotFoundException, Res } from '@nestjs/common';
import { KugelCommsMetrics } from '../../lib';

/**
 * `GET /metrics`: the Prometheus exposition of the registry kugel-comms writes to (prom-client's
 * global `register` here, so the app's own metrics would appear too). 404 when metrics are off.
 */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: KugelCommsMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) res: { setHeader(name: string, value: string): unknown }): Promise<string> {
    const registry = this.metrics.registry;
    if (!registry) throw new NotFoundException('metrics are not enabled');
    res.setHeader('Content-Type', registry.contentType);
    return registry.metrics();
  }
}
