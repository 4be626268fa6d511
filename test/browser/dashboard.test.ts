import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';

let t: TestApp;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  t = await createTestApp({ live: { stream: { intervalMs: 50 } } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const bar = (chart: string, activity: string, workers: number) =>
  `#${chart} .bar[data-activity="${activity}"][data-workers="${workers}"]`;

describe.skipIf(!existsSync(CHROMIUM))('the dashboard in chromium', () => {
  it('serves its files without credentials, while /v1 still asks for them', async () => {
    const html = await fetch(`${base}/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${base}/v1/Workspaces`)).status).toBe(401);
  });

  it('signs in, and its chart follows activity changes made through the API and in its table', async () => {
    const ws = (
      await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Browser test' } })
    ).json();
    const activities = (await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities` })).json()
      .activities as { sid: string; friendly_name: string }[];
    const available = activities.find((a) => a.friendly_name === 'Available')!.sid;
    const workers: string[] = [];
    for (const name of ['Ada', 'Grace', 'Linus']) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws.sid}/Workers`,
        form: { FriendlyName: name },
      });
      workers.push(res.json().sid as string);
    }

    await page.goto(base);
    await page.fill('#account-sid', t.account.sid);
    await page.fill('#auth-token', t.account.token);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector(bar('activity-chart', 'Offline', 3));
    await page.waitForSelector(bar('activity-chart', 'Available', 0));
    await page.waitForSelector('#connection[data-state="live"]');
    await page.waitForSelector('#workers tbody tr[data-sid]');
    expect(await page.locator('#workers tbody tr').count()).toBe(3);
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-signed-in.png`, fullPage: true });

    // A change through the API, as any client would make it.
    const res = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Workers/${workers[0]}`,
      form: { ActivitySid: available },
    });
    expect(res.statusCode).toBe(200);
    await page.waitForSelector(bar('activity-chart', 'Available', 1));
    await page.waitForSelector(bar('activity-chart', 'Offline', 2));
    await page.waitForSelector(bar('channel-chart', 'Available', 1));
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-after-api-change.png`, fullPage: true });

    // And one from the dashboard's own table.
    await page.selectOption(`#workers tr[data-sid="${workers[1]}"] select`, available);
    await page.waitForSelector(bar('activity-chart', 'Available', 2));
    const fetched = (await t.request({ url: `/v1/Workspaces/${ws.sid}/Workers/${workers[1]}` })).json();
    expect(fetched.activity_sid).toBe(available);

    // Search by friendly name.
    await page.fill('#search-name', 'linus');
    await page.click('#search button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#workers tbody tr').length === 1);
    expect(await page.textContent('#workers tbody tr td')).toBe('Linus');
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-search.png`, fullPage: true });
  });
});
