import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { AppModule } from '../app.module';
import { SessionSweepService } from './session-sweep.service';

/**
 * `npm run sweep`: one sweep against MONGODB_URI, now, then exit. It takes the same lease as the
 * scheduled job, so running it beside live instances is safe (it reports `skipped` if one of
 * them is sweeping). Exit code 0 when the sweep ran or was skipped, 1 when it failed.
 */
async function main(): Promise<void> {
  process.env.SWEEP_ENABLED = 'false';
  const app = await NestFactory.createApplicationContext(AppModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  try {
    const result = await app.get(SessionSweepService).sweepOnce();
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `sweep failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
