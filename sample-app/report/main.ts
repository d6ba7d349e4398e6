import { NestFactory } from '@nestjs/core';
import { ReportAppModule } from './report-app.module';

/** Starts the sample report service on `PORT` (default 3002). */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(ReportAppModule, { logger: ['log', 'warn', 'error', 'fatal'] });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3002);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  process.stdout.write(`sample report service on http://127.0.0.1:${port}\n`);
}

void bootstrap();
