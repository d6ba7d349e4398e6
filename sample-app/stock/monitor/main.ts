import { NestFactory } from '@nestjs/core';
import { MonitorModule } from './monitor.module';

/** Starts the sample stock monitor on `MONITOR_PORT` (default 3001). */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(MonitorModule, { logger: ['log', 'warn', 'error', 'fatal'] });
  app.enableShutdownHooks();
  const port = Number(process.env.MONITOR_PORT ?? 3001);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  process.stdout.write(`sample stock monitor on http://127.0.0.1:${port} (GET /api/v1/alerts)\n`);
}

void bootstrap();
