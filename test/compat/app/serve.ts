import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';

/**
 * Boots the app on a free port and prints `COMPAT_READY {port, format, nest, terminus}` (the
 * versions installed, read through `resolve`, the entry's own `require.resolve`). On SIGTERM, as
 * Kubernetes stops a pod, it closes the app (shutdown hooks, pooled sockets) and lets the process
 * end by itself, which it only does when nothing is left open. A failed boot prints
 * `COMPAT_BOOT_FAILED <name>: <message>` and exits with code 1.
 */
export async function serve(format: 'commonjs' | 'module', resolve: (id: string) => string): Promise<void> {
  const versionOf = (name: string) =>
    (JSON.parse(readFileSync(resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  try {
    const app = await NestFactory.create(AppModule, { logger: ['error', 'warn', 'log'], abortOnError: false });
    await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const ready = { port, format, nest: versionOf('@nestjs/core'), terminus: versionOf('@nestjs/terminus') };
    console.log(`COMPAT_READY ${JSON.stringify(ready)}`);
    process.once('SIGTERM', () => {
      app.close().then(
        () => console.log('COMPAT_CLOSED'),
        (error: unknown) => {
          console.error('close failed', error);
          process.exitCode = 1;
        },
      );
    });
  } catch (error) {
    console.error(`COMPAT_BOOT_FAILED ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exitCode = 1;
  }
}
