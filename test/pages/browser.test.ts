import { mkdir } from 'node:fs/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainUser } from '../../src/explain/explain-user.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The explorer (/graphiql) and the security console (/console) in a real browser — Debian's
 * chromium, driven by playwright-core, nothing downloaded — as two demo users. Every request a page
 * makes is recorded: none may leave the gateway's origin (SPEC §10: they work offline). The
 * screenshots are kept as test artefacts under test-artifacts/ (not committed); the README's are
 * refreshed with `SCREENSHOTS=docs npx vitest run test/pages/browser.test.ts`.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.SCREENSHOTS ?? 'test-artifacts';

let t: TestGateway;
let origin: string;
let browser: Browser;
beforeAll(async () => {
  t = await startTestGateway();
  origin = new URL(await t.gateway.listen(0, '127.0.0.1')).origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  await mkdir(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** A page that records every request it makes and every error or CSP violation it reports. */
async function recordedPage(): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  return { page, requests, problems };
}

const leaving = (requests: string[]) =>
  requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);

describe('/graphiql', () => {
  it('logs in as two demo users in turn and runs a query as each, loading nothing from elsewhere', async () => {
    const { page, requests, problems } = await recordedPage();
    await page.goto(`${origin}/graphiql`);
    await page.waitForSelector('.graphiql-container');
    for (const user of ['s1', 'u1']) {
      await page.fill('input[name=username]', user);
      await page.fill('input[name=password]', 'p');
      await page.click('button[type=submit]');
      await expect
        .poll(() => page.textContent('#status'), { timeout: 10_000 })
        .toMatch(new RegExp(`^Logged in as ${user} `));
      await page.click('.graphiql-execute-button');
      await expect
        .poll(() => page.textContent('.result-window'), { timeout: 10_000 })
        .toMatch(new RegExp(`"id":\\s*"${user}"`));
      const count = await customersCountOf(user);
      expect(await page.textContent('.result-window')).toMatch(
        new RegExp(`"customersCount":\\s*${count}\\b`),
      );
      if (user === 's1') await page.screenshot({ path: `${SCREENSHOTS}/graphiql.png` });
    }
    expect(requests).toContain(`${origin}/graphiql/schema.json`);
    expect(requests).toContain(`${origin}/graphql`);
    expect(leaving(requests)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

/** What security:explain counts for the user's customers: the number both pages must show. */
async function customersCountOf(id: string): Promise<number | undefined> {
  const user = (await t.auth.service.findUser(id))!;
  const context = { orm: t.orm, model: t.model, databaseSecurity: t.requestContext.databaseSecurity };
  return (await explainUser(context, user, { entities: ['Customer'] })).entities.Customer!.rows;
}

describe('/console', () => {
  it('shows two demo users side by side: verbs, rules, predicate and visible rows per entity', async () => {
    const { page, requests, problems } = await recordedPage();
    await page.goto(`${origin}/console`);
    await page.fill('input[name=user]', 's1');
    await page.fill('input[name=compare]', 'u1');
    await page.click('button[type=submit]');
    await page.waitForSelector('section[data-user=u1]');
    for (const user of ['s1', 'u1']) {
      const customer = page.locator(`section[data-user=${user}] tr[data-entity=Customer]`);
      expect(await customer.locator('td.rows').textContent()).toBe(`${await customersCountOf(user)} rows`);
    }
    const s1Customer = await page.locator('section[data-user=s1] tr[data-entity=Customer]').textContent();
    expect(s1Customer).toContain('Sales people see customers with a credit limit over 300');
    expect(s1Customer).toContain(`"e0"."credit_limit" > 300`);
    expect(await page.locator('section[data-user=u1] tr[data-entity=Customer]').textContent()).toContain(
      'Tenants may read, insert, update and delete.',
    );
    await page.screenshot({ path: `${SCREENSHOTS}/console.png` });
    expect(leaving(requests)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
