import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { startEmbeddedMongo } from 'nest-sessions/embedded-mongo';
import { AppModule } from './app.module';

async function main() {
  const engine = await startEmbeddedMongo();
  const app = await NestFactory.create(AppModule.register(`${engine.uri}/consumer`), {
    logger: ['error', 'warn'],
  });
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  process.stdout.write(`consumer listening on ${await app.getUrl()}\n`);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => engine.stop())
      .then(() => process.exit(0));
  });
}

void main();
