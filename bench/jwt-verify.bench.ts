/**
 * Micro-measurement behind SessionGuard's design: jsonwebtoken.verify (what @nestjs/jwt wraps)
 * with the HS256 secret given as a string versus as a cached crypto KeyObject.
 *
 *   npx ts-node --transpile-only bench/jwt-verify.bench.ts
 *
 * Prints µs per verify for both and writes bench/results/jwt-verify.json.
 */
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const secret = 'bench-secret-0123456789-0123456789-abcdef';
const key = createSecretKey(Buffer.from(secret));
const jwt = new JwtService();
const token = jwt.sign({ sub: 'u', sid: 's', typ: 'access' }, { secret, expiresIn: 900 });

function measure(label: string, verify: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) verify(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) verify();
  const us = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  console.log(`${label.padEnd(28)} ${us.toFixed(1).padStart(8)} µs/verify  (${iterations} runs)`);
  return us;
}

const asString = measure(
  'secret as string',
  () => jwt.verify(token, { secret, algorithms: ['HS256'] }),
  2000,
);
const asKeyObject = measure(
  'secret as KeyObject',
  () => jwt.verify(token, { secret: key as unknown as string, algorithms: ['HS256'] }),
  20000,
);
console.log(`KeyObject is ${(asString / asKeyObject).toFixed(1)}x faster`);

const dir = join(__dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'jwt-verify.json'),
  JSON.stringify(
    {
      at: new Date().toISOString(),
      node: process.version,
      usPerVerify: { string: asString, keyObject: asKeyObject },
    },
    null,
    2,
  ) + '\n',
);
