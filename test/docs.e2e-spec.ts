import { validate } from '@readme/openapi-parser';
import type { Browser } from 'playwright-core';
import { STATUS_OF_CODE } from '../src/common/api-errors.decorator';
import { ErrorCode } from '../src/common/error-codes';
import { createTestApp, TestApp } from './support/app';
import { launchBrowser } from './support/browser';

describe('API docs (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(() => t.close());

  it('serves the OpenAPI document at /docs-json without a token', async () => {
    const res = await t.http().get('/docs-json').expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({
      title: 'nest-sessions',
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      version: require('../package.json').version,
    });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.ErrorResponseDto.required).toEqual(
      expect.arrayContaining(['statusCode', 'error', 'code', 'message']),
    );
    expect(doc.components.schemas.ErrorCode.enum).toEqual(
      expect.arrayContaining(['SESSION_EXPIRED', 'VALIDATION_FAILED', 'SERVICE_UNAVAILABLE']),
    );
    expect(doc.paths['/health'].get.responses).toHaveProperty('200');
    expect(doc.paths['/health'].get.responses).toHaveProperty('503');
  });

  it('is a valid OpenAPI 3 document', async () => {
    const doc = (await t.http().get('/docs-json')).body;
    // A real validator (the OpenAPI 3 JSON schema plus the spec's own rules: unique operation
    // ids, declared path parameters...). It dereferences in place, hence the copy.
    const result = await validate(structuredClone(doc));
    const errors = result.valid ? [] : result.errors.map((e) => e.message);
    expect(errors).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
  });

  it('documents every error response with the shared error schema and its exact codes', async () => {
    const doc = (await t.http().get('/docs-json')).body;
    // The contract gives /health's 503 a body of its own ({ status, db }).
    const ownBody = ['get /health 503'];
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, item] of Object.entries<Record<string, Operation>>(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const where = `${method} ${path} ${status}`;
          if (Number(status) < 400 || ownBody.includes(where)) continue;
          checked++;
          const content = response.content as Record<string, { schema?: ErrorSchema }> | undefined;
          const schema = content?.['application/json']?.schema;
          const codes = schema?.allOf?.[1]?.properties?.code?.enum ?? [];
          const ok =
            !('schema' in response) &&
            Object.keys(content ?? {}).join() === 'application/json' &&
            schema?.allOf?.[0]?.$ref === '#/components/schemas/ErrorResponseDto' &&
            codes.length > 0 &&
            codes.every((code) => STATUS_OF_CODE[code] === Number(status));
          if (!ok) wrong.push(`${where}: ${JSON.stringify(response).slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it('documents every route the app serves, each with a success and its error responses', async () => {
    const doc = (await t.http().get('/docs-json')).body;
    // Express's router (this suite runs on the default platform only).
    const router = (t.app.getHttpAdapter().getInstance() as { router?: unknown }).router as {
      stack: { route?: { path: string; methods: Record<string, boolean> } }[];
    };
    // Middleware for every path is mounted as an all-methods route: not an endpoint.
    const served = router.stack
      .filter(
        (layer) =>
          layer.route &&
          !layer.route.path.startsWith('/docs') &&
          Object.keys(layer.route.methods).length === 1,
      )
      .flatMap((layer) =>
        Object.keys(layer.route!.methods).map((method) => ({
          method,
          path: layer.route!.path.replace(/:(\w+)/g, '{$1}'),
        })),
      );
    expect(served.length).toBeGreaterThan(1);
    for (const { method, path } of served) {
      const operation = doc.paths[path]?.[method];
      expect({ method, path, documented: Boolean(operation) }).toEqual({
        method,
        path,
        documented: true,
      });
      const statuses = Object.keys(operation.responses).map(Number);
      expect({ path, method, success: statuses.some((s) => s >= 200 && s < 300) }).toEqual({
        path,
        method,
        success: true,
      });
      expect(statuses).toEqual(expect.arrayContaining([500, 503]));
      if (operation.security?.some((s: object) => 'bearer' in s)) expect(statuses).toContain(401);
    }
  });

  it('documents a request body for every route that takes one', async () => {
    const doc = (await t.http().get('/docs-json')).body;
    // The contract's routes without a body.
    const bodyless = [
      'post /auth/logout',
      'post /admin/sessions/validate-all',
      'post /admin/sessions/invalidate-all',
    ];
    const missing: string[] = [];
    for (const [path, item] of Object.entries<Record<string, { requestBody?: unknown }>>(
      doc.paths,
    )) {
      for (const method of ['post', 'put', 'patch']) {
        const operation = item[method];
        if (!operation || bodyless.includes(`${method} ${path}`)) continue;
        if (!operation.requestBody) missing.push(`${method} ${path}`);
      }
    }
    expect(missing).toEqual([]);
    expect(doc.paths['/auth/login'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: expect.stringMatching(/^#\/components\/schemas\//),
    });
  });

  it('renders Swagger UI at /docs in a real browser, under the security headers', async () => {
    let browser: Browser | undefined;
    try {
      // Chromium from the @sparticuz/chromium package: unpacking it or launching it failing
      // fails this test (no skip).
      browser = await launchBrowser();
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));

      const response = await page.goto(`${baseUrl}/docs`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);

      await page.waitForSelector('.swagger-ui .opblock', { timeout: 20000 });
      await expect(page.locator('.swagger-ui .info .title').innerText()).resolves.toMatch(
        /nest-sessions/,
      );
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(
        expect.arrayContaining(['/health', '/auth/login']),
      );
      // Opening an operation renders its responses, including the shared error shape.
      await page.locator('.opblock-summary-path', { hasText: '/health' }).first().click();
      await page.waitForSelector('.responses-table .response[data-code="503"]', { timeout: 10000 });
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
    }
    // Unpacking the browser takes about 6 s on a quiet machine, several times that under load.
  }, 120_000);
});

type Operation = { responses: Record<string, Record<string, unknown>> };
type ErrorSchema = {
  allOf?: [{ $ref?: string }, { properties?: { code?: { enum?: ErrorCode[] } } }];
};
