import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { routingHelpers } from '../helpers/routing.js';

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
  // Under the test's own timeout, so that a wait that never ends names what it waited for.
  page.setDefaultTimeout(20_000);
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

  it('shows routing live: tasks by status, queues with their waits and workers, and the last hour', async () => {
    const r = routingHelpers(t);
    const setup = await r.workspace();
    const { ws, queue, workflow, idle } = setup;
    const worker = (
      await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: 'Alan' } })
    ).json().sid as string;
    const task = (
      await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/Tasks`,
        form: { WorkflowSid: workflow, Attributes: '{"type":"support"}' },
      })
    ).json().sid as string;

    await page.evaluate((sid) => sessionStorage.setItem('roster.workspace', sid), ws);
    await page.reload();
    await page.waitForSelector('#connection[data-state="live"]');
    // Nobody is available: the task waits, and the queue says so.
    await page.waitForSelector('#task-status .tile[data-status="pending"][data-count="1"]');
    await page.waitForSelector(`#longest-wait[data-sid="${task}"]`);
    await page.waitForSelector(
      `#queues tr[data-sid="${queue}"][data-waiting="1"][data-available="0"][data-eligible="1"]`,
    );
    await page.waitForSelector('#workers td[data-since]');
    await page.waitForSelector('#history svg polyline[data-series="waiting"]');

    // The worker becomes available through the API: routing reserves the task for it.
    const moved = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers/${worker}`,
      form: { ActivitySid: idle },
    });
    expect(moved.statusCode).toBe(200);
    await page.waitForSelector('#task-status .tile[data-status="reserved"][data-count="1"]');
    await page.waitForSelector('#task-status .tile[data-status="pending"][data-count="0"]');
    await page.waitForSelector(`#queues tr[data-sid="${queue}"][data-waiting="0"][data-available="1"]`);

    // Accepting it makes it assigned.
    const reservations = (await t.request({ url: `/v1/Workspaces/${ws}/Tasks/${task}/Reservations` })).json()
      .reservations as { sid: string }[];
    const accepted = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Tasks/${task}/Reservations/${reservations[0]!.sid}`,
      form: { ReservationStatus: 'accepted' },
    });
    expect(accepted.statusCode).toBe(200);
    await page.waitForSelector('#task-status .tile[data-status="assigned"][data-count="1"]');
    await page.waitForFunction(
      () => Number(document.querySelector('#history')?.getAttribute('data-samples')) >= 3,
    );
    await page.screenshot({ path: `${ARTIFACTS}/dashboard-routing.png`, fullPage: true });
  }, 90_000);
});
