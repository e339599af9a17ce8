/**
 * What the per-request session check costs: requests/s and p99 of a route that only runs the
 * guard, against the same route marked @Public(), with the session cache on (the default) and
 * off (one session read and one user read per request), on the embedded engine in-process.
 *
 *   npx ts-node --transpile-only bench/session-guard.bench.ts [-- --seconds 5 --connections 10]
 *
 * Prints a table and writes bench/results/session-guard.json.
 */
import { Controller, Get, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigs, validateEnv } from '../config';
import { AllExceptionsFilter } from '../src/common/all-exceptions.filter';
import { CommonModule } from '../src/common/common.module';
import { createValidationPipe } from '../src/common/validation';
import { DatabaseModule } from '../src/database/database.module';
import { Public, SessionModule } from '../src/sessions';
import { createTestApp, createUser, login } from '../test/support/app';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = option('seconds', 5);
const CONNECTIONS = option('connections', 10);

@Controller('bench')
class BenchController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

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
    SessionModule.forRoot(),
  ],
  controllers: [BenchController],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
})
class BenchModule {}

async function run(cacheTtlMs: string) {
  const t = await createTestApp({ SESSION_CACHE_TTL_MS: cacheTtlMs }, { module: BenchModule });
  try {
    await createUser(t, { username: 'bench', password: 'bench-password' });
    const { accessToken } = await login(t, 'bench', 'bench-password');
    await t.app.listen(0, '127.0.0.1');
    const url = await t.app.getUrl();
    const measure = async (path: string, headers: Record<string, string> = {}) => {
      const r = await autocannon({
        url: `${url.replace('[::1]', '127.0.0.1')}${path}`,
        headers,
        connections: CONNECTIONS,
        duration: SECONDS,
      });
      if (r.non2xx) throw new Error(`${path}: ${r.non2xx} non-2xx answers`);
      return { rps: Math.round(r.requests.average), p99ms: r.latency.p99 };
    };
    return {
      public: await measure('/bench/public'),
      protected: await measure('/bench/protected', { authorization: `Bearer ${accessToken}` }),
    };
  } finally {
    await t.close();
  }
}

async function main() {
  const cached = await run('5000');
  const uncached = await run('0');
  const rows = [
    ['@Public() route', cached.public],
    ['guarded, session cache on', cached.protected],
    ['guarded, cache off (DB reads)', uncached.protected],
  ] as const;
  console.log(`${SECONDS}s each, ${CONNECTIONS} connections`);
  for (const [label, r] of rows) {
    console.log(`${label.padEnd(32)} ${String(r.rps).padStart(7)} req/s   p99 ${r.p99ms} ms`);
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'session-guard.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        seconds: SECONDS,
        connections: CONNECTIONS,
        cached,
        uncached,
      },
      null,
      2,
    ) + '\n',
  );
}

void main();
