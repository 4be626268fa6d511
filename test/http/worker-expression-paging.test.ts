import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { MAX_SCANNED_ROWS } from '../../src/storage/paging.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

/**
 * A TargetWorkersExpression is tested on each worker in JavaScript; a page reads at most
 * MAX_SCANNED_ROWS workers, so a rare match in a large workspace costs several bounded requests,
 * never one that holds the server for the whole workspace.
 */
let t: TestApp;
let base: string;
const WORKERS = 2 * MAX_SCANNED_ROWS + 500;

beforeAll(async () => {
  t = await createTestApp();
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Big' } })
  ).json();
  base = `/v1/Workspaces/${ws.sid}/Workers`;
  const now = new Date('2026-01-01T00:00:00Z');
  for (let from = 0; from < WORKERS; from += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, WORKERS - from) }, (_, i) => ({
      sid: newSid(SidPrefix.worker),
      accountSid: t.account.sid,
      workspaceSid: ws.sid,
      friendlyName: `W${from + i}`,
      activitySid: ws.default_activity_sid,
      attributes: JSON.stringify({ n: from + i, rare: from + i === WORKERS - 1 }),
      now,
    }));
    await t.store.transaction((tx) =>
      tx.insertWorkers(ws.sid, batch, () => ({ capacity: 1, available: true })),
    );
  }
}, 120_000);
afterAll(() => t.close());

type ListPage = { workers: { friendly_name: string }[]; meta: { next_page_url: string | null } };

async function get(url: string): Promise<ListPage> {
  const res = await t.request({ url });
  expect(res.statusCode, res.body).toBe(200);
  expectMatchesSpec('ListWorker', 200, res.json());
  return res.json();
}

describe('a TargetWorkersExpression over a large workspace', () => {
  it('reads a bounded number of workers per page, and following next_page_url finds every match', async () => {
    const expression = encodeURIComponent('rare == true');
    let page = await get(`${base}?TargetWorkersExpression=${expression}&PageSize=50`);
    const found: string[] = [];
    let requests = 1;
    // Cut short, the first pages are empty and still say where to go on.
    expect(page.workers).toEqual([]);
    expect(page.meta.next_page_url).not.toBeNull();
    for (;;) {
      found.push(...page.workers.map((w) => w.friendly_name));
      if (!page.meta.next_page_url) break;
      page = await get(page.meta.next_page_url.replace('http://roster.test', ''));
      requests++;
    }
    expect(found).toEqual([`W${WORKERS - 1}`]);
    expect(requests).toBe(Math.ceil(WORKERS / MAX_SCANNED_ROWS));
  });

  it('fills pages as usual when matches are common', async () => {
    const expression = encodeURIComponent('n < 120');
    const page = await get(`${base}?TargetWorkersExpression=${expression}&PageSize=100`);
    expect(page.workers).toHaveLength(100);
    const next = await get(page.meta.next_page_url!.replace('http://roster.test', ''));
    expect(next.workers.map((w) => w.friendly_name)).toEqual(
      Array.from({ length: 20 }, (_, i) => `W${100 + i}`),
    );
    // The rest of the workspace holds no match; reading it takes bounded pages, all empty.
    let rest = next;
    while (rest.meta.next_page_url) {
      rest = await get(rest.meta.next_page_url.replace('http://roster.test', ''));
      expect(rest.workers).toEqual([]);
    }
  });

  it('refuses a Page whose start lies beyond the rows one request may read', async () => {
    const expression = encodeURIComponent('rare == true');
    const res = await t.request({ url: `${base}?TargetWorkersExpression=${expression}&PageSize=1&Page=1` });
    expect(res.statusCode).toBe(400);
    expectTwilioError(res.json(), 400, 20001);
    expect(res.json().message).toMatch(/follow next_page_url/);
  });

  it('bounds the status-change order with an expression the same way', async () => {
    const expression = encodeURIComponent('rare == true');
    let page = await get(
      `${base}?TargetWorkersExpression=${expression}&Ordering=DateStatusChanged:asc&PageSize=50`,
    );
    const found: string[] = [];
    for (;;) {
      found.push(...page.workers.map((w) => w.friendly_name));
      if (!page.meta.next_page_url) break;
      page = await get(page.meta.next_page_url.replace('http://roster.test', ''));
    }
    expect(found).toEqual([`W${WORKERS - 1}`]);
  });
});
