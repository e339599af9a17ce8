/**
 * The app alone in a child process, for benchmarks that measure its memory: it reports its
 * port once listening and answers `mem` with process.memoryUsage() and cpuUsage() (after a GC on `gc`).
 * Started by a bench with `fork(…, { execArgv: ['--expose-gc', '-r', 'ts-node/register/transpile-only'] })`.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';

async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    rawBody: true,
    logger: ['error', 'warn'],
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.send!({ port });
  process.on('message', (message) => {
    if (message === 'gc') (globalThis as { gc?: () => void }).gc?.();
    if (message === 'mem' || message === 'gc')
      process.send!({ mem: { ...process.memoryUsage(), cpu: process.cpuUsage() } });
    if (message === 'stop') void app.close().then(() => process.exit(0));
  });
}

void main();
