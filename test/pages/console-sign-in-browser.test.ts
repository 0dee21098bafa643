import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { CONSOLE_COOKIE } from '../../src/http/pages/console-session.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The production console's sign-in in a real browser (Debian's chromium): the form, the cookie the
 * browser keeps (HttpOnly, so no script of the page can read it; SameSite=Strict; /console only), the
 * same-origin check passing for the console's own page, and sign-out. The HTTP details and the
 * attacks are in test/http/console-sign-in.test.ts.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let t: TestGateway;
let origin: string;
let browser: Browser;
beforeAll(async () => {
  t = await startTestGateway({
    settings: { ...DEFAULT_GATEWAY_SETTINGS, production: true, introspection: false },
  });
  origin = new URL(await t.gateway.listen(0, '127.0.0.1')).origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

it('signs the superuser in once, keeps them signed in across views, and signs them out', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(error.message));

  // A bookmarked view asks for the sign-in first; a wrong password says so and keeps the view.
  await page.goto(`${origin}/console?user=s1&compare=u1`);
  await page.fill('input[name=username]', 'sa');
  await page.fill('input[name=password]', 'wrong');
  await page.click('button[type=submit]');
  expect(await page.textContent('p.error')).toBe('Invalid username or password');
  await page.fill('input[name=username]', 'sa');
  await page.fill('input[name=password]', 'p');
  await page.click('button[type=submit]');
  await page.waitForSelector('section[data-user=u1]');
  expect(new URL(page.url()).search).toBe('?user=s1&compare=u1');

  const [cookie, ...others] = await context.cookies();
  expect(others).toEqual([]);
  expect(cookie).toMatchObject({
    name: CONSOLE_COOKIE,
    path: '/console',
    httpOnly: true,
    sameSite: 'Strict',
  });
  // No script on the page sees it (the expression runs in the page, where `document` is).
  expect(await page.evaluate('document.cookie')).toBe('');

  // Further views need no password: another pair of users, then a reload.
  const keys = t.auth.throttle.keysInMemory();
  await page.fill('input[name=user]', 'u2');
  await page.fill('input[name=compare]', '');
  await page.click('button:text("Show")');
  await page.waitForSelector('section[data-user=u2]');
  await page.reload();
  await page.waitForSelector('section[data-user=u2]');
  expect(t.auth.throttle.keysInMemory()).toBe(keys);

  await page.click('button:text("Sign out")');
  await page.waitForSelector('input[name=password]');
  expect(await context.cookies()).toEqual([]);
  await page.goto(`${origin}/console?user=u2`);
  expect(await page.locator('section[data-user]').count()).toBe(0);

  expect(requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).toEqual([]);
  expect(problems).toEqual([]);
  await context.close();
});
