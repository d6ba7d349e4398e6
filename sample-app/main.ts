import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/** Starts the sample cart service on `PORT` (default 3000). */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['log', 'warn', 'error', 'fatal'] });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '0.0.0.0');
  process.stdout.write(
    `sample cart service on http://127.0.0.1:${port}\n` +
      `  try: curl -s -X POST http://127.0.0.1:${port}/api/v1/tenants/T1/stores/S1/terminals/1/carts\n` +
      `       curl -s http://127.0.0.1:${port}/health/ready\n`,
  );
}

void bootstrap();
