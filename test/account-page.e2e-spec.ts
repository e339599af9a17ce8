import { parseSetCookie } from 'cookie';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createTestApp, createUser, TestApp } from './support/app';
import { launchBrowser } from './support/browser';

const PHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

/** `name=value` pairs of a login answer's Set-Cookie lines, as a Cookie header. */
function cookieHeader(setCookie: string[]): string {
  return setCookie
    .map((line) => parseSetCookie(line))
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
}

describe('GET /account, the devices page (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;

  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'cookie' });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    await createUser(t, { username: 'alice', password: 'alice-password-1' });
  });
  afterAll(() => t.close());

  it('serves the page, its script and its style as files under the CSP, without a token', async () => {
    const page = await t.http().get('/account').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.text).toContain('<script src="/account/account.js" defer></script>');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(page.text).toContain('<meta name="csrf-cookie" content="csrf_token" />');
    const js = await t.http().get('/account/account.js').expect(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.text).toContain("'x-csrf-token'");
    const css = await t.http().get('/account/account.css').expect(200);
    expect(css.headers['content-type']).toMatch(/^text\/css/);
  });

  it('signs in, shows two devices, signs the other out; that device is refused next', async () => {
    // The "other device": a phone that signed in through the API.
    const phone = await t
      .http()
      .post('/auth/login')
      .set('User-Agent', PHONE_UA)
      .send({ username: 'alice', password: 'alice-password-1' })
      .expect(201);
    const phoneCookies = cookieHeader(phone.headers['set-cookie'] as unknown as string[]);
    await t.http().get('/sessions/current').set('Cookie', phoneCookies).expect(200);

    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: { width: 900, height: 640 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error' && !/status of 401/.test(message.text())) {
          problems.push(`console: ${message.text()}`);
        }
      });

      await page.goto(`${baseUrl}/account`, { waitUntil: 'load' });
      await page.waitForSelector('#signin:not([hidden])', { timeout: 20000 });
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', 'alice-password-1');
      await page.click('#signin button[type=submit]');

      const items = page.locator('#device-list li');
      await items.nth(1).waitFor({ timeout: 20000 });
      expect(await items.count()).toBe(2);
      const current = page.locator('#device-list li.current');
      await expect(current.locator('.badge').innerText()).resolves.toBe('This device');
      await expect(current.locator('.device-name').innerText()).resolves.toMatch(
        /HeadlessChrome|Chrome/,
      );
      const other = page.locator(`#device-list li[data-session-id="${phone.body.session.id}"]`);
      // The parsed device name when the session view has one, else the raw user agent.
      const phoneView = (
        await t.http().get('/sessions/current').set('Cookie', phoneCookies).expect(200)
      ).body as { device?: { name?: string | null } | null; userAgent: string };
      const phoneName = phoneView.device?.name || PHONE_UA;
      await expect(other.locator('.device-name').innerText()).resolves.toBe(phoneName);
      if (phoneName !== PHONE_UA) {
        await expect(other.locator('.device-ua').innerText()).resolves.toBe(PHONE_UA);
      }
      await expect(other.innerText()).resolves.toMatch(/Where: .*127\.0\.0\.1/);
      await expect(other.innerText()).resolves.toMatch(/Last active: /);
      await expect(page.locator('#whoami').innerText()).resolves.toBe('Signed in as alice.');

      // The tokens are out of the page's reach; only the CSRF token is readable.
      const visible = await page.evaluate<string>('document.cookie');
      expect(visible).toMatch(/^csrf_token=[\w-]{43}$/);
      const jar = await context.cookies(`${baseUrl}/sessions`);
      expect(jar.map((c) => c.name).sort()).toEqual(['access_token', 'csrf_token']);

      if (process.env.UPDATE_SCREENSHOTS === '1') {
        const docs = join(__dirname, '..', 'docs');
        mkdirSync(docs, { recursive: true });
        await page.screenshot({ path: join(docs, 'account-page.png'), fullPage: true });
      }

      await other.locator('button', { hasText: 'Sign out' }).click();
      await other.waitFor({ state: 'detached', timeout: 20000 });
      expect(await items.count()).toBe(1);
      await expect(page.locator('#status').innerText()).resolves.toBe(
        'Only this device is signed in.',
      );

      // The phone's next request is refused.
      const refused = await t.http().get('/sessions/current').set('Cookie', phoneCookies);
      expect([refused.status, refused.body.code]).toEqual([401, 'SESSION_ENDED']);
      const stored = await t.connection.collection('sessions').findOne({ userAgent: PHONE_UA });
      expect(stored).toMatchObject({ state: 'ended', endReason: 'logout' });

      // Later: the access token has expired; the page refreshes once and carries on.
      t.clock.advance(16 * 60_000);
      const refreshes: number[] = [];
      page.on('response', (r) => {
        if (r.url().endsWith('/auth/refresh')) refreshes.push(r.status());
      });
      await page.reload({ waitUntil: 'load' });
      await page
        .locator('#devices:not([hidden]) #device-list li.current')
        .waitFor({ timeout: 20000 });
      expect(refreshes).toContain(200);

      // Signing out of this device ends the session and clears the cookies.
      await page.click('#signout-self');
      await page.waitForSelector('#signin:not([hidden])', { timeout: 20000 });
      await expect(page.locator('#status').innerText()).resolves.toBe('You are signed out.');
      expect(await context.cookies(baseUrl)).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
    }

    // Unpacking the browser takes about 6 s on a quiet machine, several times that under load.
  }, 120_000);

  it('renders what a client sent as text, never as markup', async () => {
    const hostile = '<img src=x onerror="document.title=\'pwned\'">';
    await t
      .http()
      .post('/auth/login')
      .set('User-Agent', hostile)
      .send({ username: 'alice', password: 'alice-password-1', label: '<b>label</b>' })
      .expect(201);
    let browser: Browser | undefined;
    try {
      browser = await launchBrowser();
      const page = await browser.newPage();
      await page.goto(`${baseUrl}/account`, { waitUntil: 'load' });
      await page.waitForSelector('#signin:not([hidden]), #devices:not([hidden])', {
        timeout: 20000,
      });
      if (await page.locator('#signin').isVisible()) {
        await page.fill('input[name=username]', 'alice');
        await page.fill('input[name=password]', 'alice-password-1');
        await page.click('#signin button[type=submit]');
      }
      const item = page.locator('#device-list li', { hasText: 'onerror' });
      await item.waitFor({ timeout: 20000 });
      await expect(item.innerText()).resolves.toContain(hostile);
      await expect(item.innerText()).resolves.toContain('<b>label</b>');
      expect(await page.locator('#device-list img, #device-list b').count()).toBe(0);
      expect(await page.title()).toBe('Your devices');
    } finally {
      await browser?.close();
    }
  }, 120_000);
});

describe('GET /account with TOKEN_TRANSPORT=header (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TOKEN_TRANSPORT: 'header' });
  });
  afterAll(() => t.close());

  it('says the page needs cookie transport, and offers no sign-in', async () => {
    const res = await t.http().get('/account').expect(200);
    expect(res.text).toContain('This page needs cookie transport');
    expect(res.text).not.toContain('<form');
    expect(res.text).not.toContain('<script');
  });
});
