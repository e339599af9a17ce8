/**
 * SessionGuard alone, in-process: microseconds per `canActivate` for a live session, with the
 * session cache on (the default) and off (a session read and a user read per call), on the
 * embedded engine. No HTTP in the way; for the guard's share of real requests per second see
 * bench/guard.bench.ts.
 *
 *   npx ts-node --transpile-only bench/session-guard.bench.ts
 *
 * Prints the figures and writes bench/results/session-guard.json.
 */
import { Controller, ExecutionContext, Get, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigs, validateEnv } from '../config';
import { SESSION_OPTIONS_INJECT, sessionOptionsFromConfig } from '../src/app.module';
import { CommonModule } from '../src/common/common.module';
import { DatabaseModule } from '../src/database/database.module';
import { SessionGuard, SessionModule } from '../src/sessions';
import { createTestApp, createUser, login } from '../test/support/app';

@Controller('bench')
class BenchController {
  @Get('protected')
  guarded() {
    return { ok: true };
  }
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: allConfigs, validate: validateEnv }),
    CommonModule,
    DatabaseModule,
    // The app's own env mapping, so SESSION_CACHE_TTL_MS below switches the cache.
    SessionModule.forRootAsync({
      inject: SESSION_OPTIONS_INJECT,
      useFactory: sessionOptionsFromConfig,
    }),
  ],
  controllers: [BenchController],
})
class BenchModule {}

async function usPerCheck(cacheTtlMs: string, runs: number): Promise<number> {
  const t = await createTestApp({ SESSION_CACHE_TTL_MS: cacheTtlMs }, { module: BenchModule });
  try {
    await createUser(t, { username: 'bench', password: 'bench-password' });
    const { accessToken } = await login(t, 'bench', 'bench-password');
    const guard = t.app.get(SessionGuard);
    const request = { headers: { authorization: `Bearer ${accessToken}` } };
    const context = {
      getType: () => 'http',
      getHandler: () => BenchController.prototype.guarded,
      getClass: () => BenchController,
      switchToHttp: () => ({ getRequest: () => request }),
    } as unknown as ExecutionContext;
    for (let i = 0; i < Math.min(runs, 1000); i++) await guard.canActivate(context); // warm up
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await guard.canActivate(context);
    return Number(process.hrtime.bigint() - started) / 1000 / runs;
  } finally {
    await t.close();
  }
}

async function main() {
  const cached = await usPerCheck('5000', 20000);
  const uncached = await usPerCheck('0', 1000);
  console.log(`SessionGuard.canActivate, session cache on : ${cached.toFixed(1).padStart(8)} µs`);
  console.log(`SessionGuard.canActivate, session cache off: ${uncached.toFixed(1).padStart(8)} µs`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'session-guard.json'),
    JSON.stringify(
      { at: new Date().toISOString(), node: process.version, usPerCheck: { cached, uncached } },
      null,
      2,
    ) + '\n',
  );
}

void main();
