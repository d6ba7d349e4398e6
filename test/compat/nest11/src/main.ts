import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/** The installed version of a package (which Nest this app really runs on). */
function versionOf(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log'], abortOnError: false });
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  console.log(
    `COMPAT_READY ${JSON.stringify({
      port: address.port,
      format: 'commonjs',
      nest: versionOf('@nestjs/core'),
      terminus: versionOf('@nestjs/terminus'),
    })}`,
  );
  // Kubernetes stops a pod with SIGTERM: close the app (shutdown hooks, pooled sockets), then let
  // the process end by itself, which it only does when nothing is left open.
  process.once('SIGTERM', () => {
    app.close().then(
      () => console.log('COMPAT_CLOSED'),
      (error: unknown) => {
        console.error('close failed', error);
        process.exitCode = 1;
      },
    );
  });
}
bootstrap().catch((error: unknown) => {
  console.error(`COMPAT_BOOT_FAILED ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  process.exitCode = 1;
});
