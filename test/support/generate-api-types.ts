/**
 * `npm run openapi:client`: starts the app on a fresh embedded engine, fetches its OpenAPI
 * document from GET /docs-json (what clients see) and writes test/support/api-types.ts.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { createTestApp } from './app';
import { API_TYPES_FILE, renderApiTypes } from './render-api-types';

async function main(): Promise<void> {
  const t = await createTestApp();
  let document: object;
  try {
    document = (await t.http().get('/docs-json').expect(200)).body as object;
  } finally {
    await t.close();
  }
  writeFileSync(API_TYPES_FILE, await renderApiTypes(document));
  console.log(`written ${relative(process.cwd(), API_TYPES_FILE)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
