import { NestFactory } from '@nestjs/core';
import { PathParamsWsAdapter } from './path-params-ws.adapter';
import { StockModule } from './stock.module';

/** Starts the sample stock service on `STOCK_PORT` (default 8003). */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(StockModule, { logger: ['log', 'warn', 'error', 'fatal'] });
  app.useWebSocketAdapter(new PathParamsWsAdapter(app));
  app.enableShutdownHooks();
  const port = Number(process.env.STOCK_PORT ?? 8003);
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  process.stdout.write(
    `sample stock service on http://127.0.0.1:${port} (alerts on ws://127.0.0.1:${port}/api/v1/ws/{tenant}/{store}?token=...)\n`,
  );
}

void bootstrap();
