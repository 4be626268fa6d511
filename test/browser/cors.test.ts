import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * A page on another origin, in the browser of a user who has credentials for Roster, must not be
 * able to read or change anything with them. The API listens on 127.0.0.1, the page is served
 * from localhost (another origin, as a site elsewhere would be).
 */
const CHROMIUM = '/usr/bin/chromium';

let t: TestApp;
let api: string;
let site: Server;
let elsewhere: string;
let browser: Browser;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  api = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Elsewhere</title>
<form id="f" method="POST" action="${api}/v1/Workspaces"><input name="FriendlyName" value="Cross-site"></form>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  elsewhere = `http://localhost:${(site.address() as AddressInfo).port}`;
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await t?.close();
});

/**
 * A page elsewhere in a browser that attaches the user's Basic credentials to every request to
 * the API by itself, as a browser does once the user has typed them into its prompt.
 */
async function pageWithRememberedCredentials(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  await context.route(`${api}/**`, (route) =>
    route.continue({ headers: { ...route.request().headers(), authorization: t.account.auth } }),
  );
  const page = await context.newPage();
  await page.goto(elsewhere);
  return { context, page };
}

const workspaceNames = async () =>
  (await t.request({ url: '/v1/Workspaces' }))
    .json()
    .workspaces.map((w: { friendly_name: string }) => w.friendly_name);

describe.skipIf(!existsSync(CHROMIUM))('a page on another origin, in chromium', () => {
  it('cannot read the API with the credentials the browser keeps', async () => {
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Private' } });
    const { context, page } = await pageWithRememberedCredentials();
    try {
      const outcome = await page.evaluate(async (url) => {
        try {
          const res = await fetch(url, { credentials: 'include' });
          return `read ${res.status}: ${await res.text()}`;
        } catch (err) {
          return `blocked: ${String(err)}`;
        }
      }, `${api}/v1/Workspaces`);
      expect(outcome).toMatch(/^blocked: TypeError/);
    } finally {
      await context.close();
    }
  });

  it('cannot write with them through a cross-site form', async () => {
    const { context, page } = await pageWithRememberedCredentials();
    try {
      const [response] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
      ]);
      expect(response?.status()).toBe(403);
      expect(await workspaceNames()).not.toContain('Cross-site');
    } finally {
      await context.close();
    }
  });

  it('is never asked for credentials: a 401 has no Basic challenge for a browser', async () => {
    // Credentials the browser would offer if challenged; it never is, so it never sends them.
    const context = await browser.newContext({
      httpCredentials: { username: t.account.sid, password: t.account.token },
    });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${api}/v1/Workspaces`);
      expect(response?.status()).toBe(401);
      expect(response?.headers()['www-authenticate']).toBeUndefined();
      expect(JSON.parse(await page.innerText('body'))).toMatchObject({ status: 401, code: 20003 });
    } finally {
      await context.close();
    }
  });

  it('can read with a token it holds itself (the wildcard is for that)', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(elsewhere);
      const status = await page.evaluate(
        async ([url, auth]) => (await fetch(url!, { headers: { authorization: auth! } })).status,
        [`${api}/v1/Workspaces`, t.account.auth],
      );
      expect(status).toBe(200);
    } finally {
      await context.close();
    }
  });
});
