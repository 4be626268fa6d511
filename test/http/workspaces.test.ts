import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function createWorkspace(name: string, extra: Record<string, string> = {}) {
  const res = await t.request({
    method: 'POST',
    url: '/v1/Workspaces',
    form: { FriendlyName: name, ...extra },
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

describe('Workspaces', () => {
  it('creates a workspace with the default activities and task channels', async () => {
    const ws = await createWorkspace('Support');
    expectMatchesSpec('CreateWorkspace', 201, ws);
    expect(ws).toMatchObject({
      account_sid: t.account.sid,
      friendly_name: 'Support',
      default_activity_name: 'Offline',
      timeout_activity_name: 'Offline',
      multi_task_enabled: true,
      prioritize_queue_order: 'FIFO',
      event_callback_url: null,
      url: `${PUBLIC_URL}/v1/Workspaces/${ws.sid}`,
    });
    expect(ws.sid).toMatch(/^WS[0-9a-f]{32}$/);
    expect(ws.date_created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ws.default_activity_sid).toBe(ws.timeout_activity_sid);
    expect(ws.links.workers).toBe(`${ws.url}/Workers`);

    const activities = (await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities` })).json();
    expectMatchesSpec('ListActivity', 200, activities);
    expect(
      activities.activities.map((a: { friendly_name: string; available: boolean }) => [
        a.friendly_name,
        a.available,
      ]),
    ).toEqual([
      ['Offline', false],
      ['Available', true],
      ['Unavailable', false],
    ]);
    const channels = (await t.request({ url: `/v1/Workspaces/${ws.sid}/TaskChannels` })).json();
    expectMatchesSpec('ListTaskChannel', 200, channels);
    expect(channels.channels.map((c: { unique_name: string }) => c.unique_name)).toEqual([
      'default',
      'voice',
      'sms',
      'video',
      'chat',
    ]);
  });

  it('accepts the optional parameters and validates them', async () => {
    const ws = await createWorkspace('Sales', {
      EventCallbackUrl: 'https://example.com/events',
      MultiTaskEnabled: 'false',
      PrioritizeQueueOrder: 'LIFO',
      EventsFilter: 'worker.activity.update',
    });
    expect(ws).toMatchObject({
      event_callback_url: 'https://example.com/events',
      multi_task_enabled: false,
      prioritize_queue_order: 'LIFO',
      events_filter: 'worker.activity.update',
    });
    for (const form of <Record<string, string>[]>[
      { FriendlyName: 'x', EventCallbackUrl: 'not a url' },
      { FriendlyName: 'x', MultiTaskEnabled: 'maybe' },
      { FriendlyName: 'x', PrioritizeQueueOrder: 'RANDOM' },
      { FriendlyName: '' },
      {},
    ]) {
      const res = await t.request({ method: 'POST', url: '/v1/Workspaces', form });
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
      expectTwilioError(res.json(), 400, 20001);
    }
  });

  // Found by the fuzzer: "" was stored and served, which is not a URI (the spec says uri or null).
  it('reads an empty EventCallbackUrl as none, on create and to clear one on update', async () => {
    const none = await createWorkspace('No callback', { EventCallbackUrl: '' });
    expect(none.event_callback_url).toBeNull();
    const ws = await createWorkspace('Callback', { EventCallbackUrl: 'https://example.com/events' });
    const cleared = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}`,
      form: { EventCallbackUrl: '' },
    });
    expect(cleared.statusCode).toBe(200);
    expectMatchesSpec('UpdateWorkspace', 200, cleared.json());
    expect(cleared.json().event_callback_url).toBeNull();
    expect((await t.request({ url: `/v1/Workspaces/${ws.sid}` })).json().event_callback_url).toBeNull();
  });

  it('fetches, updates and deletes', async () => {
    const ws = await createWorkspace('Temp');
    const fetched = await t.request({ url: `/v1/Workspaces/${ws.sid}` });
    expect(fetched.statusCode).toBe(200);
    expectMatchesSpec('FetchWorkspace', 200, fetched.json());
    expect(fetched.json()).toEqual(ws);

    const activities = (
      await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities?FriendlyName=Available` })
    ).json();
    const available = activities.activities[0];
    const updated = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}`,
      form: { FriendlyName: 'Renamed', DefaultActivitySid: available.sid },
    });
    expect(updated.statusCode).toBe(200);
    expectMatchesSpec('UpdateWorkspace', 200, updated.json());
    expect(updated.json()).toMatchObject({
      friendly_name: 'Renamed',
      default_activity_sid: available.sid,
      default_activity_name: 'Available',
      timeout_activity_name: 'Offline',
    });

    const foreign = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}`,
      form: { TimeoutActivitySid: 'WA' + '0'.repeat(32) },
    });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().message).toContain('TimeoutActivitySid');

    const del = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}` });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    const gone = await t.request({ url: `/v1/Workspaces/${ws.sid}` });
    expect(gone.statusCode).toBe(404);
    expectTwilioError(gone.json(), 404, 20404);
    expect(gone.json().message).toBe(`The requested resource /Workspaces/${ws.sid} was not found`);
    const goneWorkers = await t.request({ url: `/v1/Workspaces/${ws.sid}/Workers` });
    expect(goneWorkers.statusCode).toBe(404);
  });

  it('deleting a workspace removes everything in it', async () => {
    const ws = await createWorkspace('Doomed');
    const w = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Workers`,
      form: { FriendlyName: 'a' },
    });
    expect(w.statusCode).toBe(201);
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}` });
    expect((await t.request({ url: `/v1/Workspaces/${ws.sid}/Workers/${w.json().sid}` })).statusCode).toBe(
      404,
    );
    // The workspace's rows go in the background, a batch at a time.
    await t.services.reclaimer.start();
    await t.services.reclaimer.stop();
    expect(await t.store.pendingReclaims()).toEqual([]);
    expect(await t.store.activityCounts(ws.sid)).toEqual([]);
    expect(await t.store.getWorker(ws.sid, w.json().sid)).toBeNull();
  });

  it('lists with a FriendlyName filter and pages', async () => {
    const other = await t.newAccount();
    for (let i = 0; i < 5; i++) {
      const res = await t.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: `Paged` },
        as: other,
      });
      expect(res.statusCode).toBe(201);
    }
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Other' }, as: other });
    const first = await t.request({ url: '/v1/Workspaces?FriendlyName=Paged&PageSize=2', as: other });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expectMatchesSpec('ListWorkspace', 200, body);
    expect(body.workspaces).toHaveLength(2);
    expect(body.meta).toMatchObject({
      page: 0,
      page_size: 2,
      key: 'workspaces',
      previous_page_url: null,
      first_page_url: `${PUBLIC_URL}/v1/Workspaces?FriendlyName=Paged&PageSize=2&Page=0`,
      url: `${PUBLIC_URL}/v1/Workspaces?FriendlyName=Paged&PageSize=2&Page=0`,
    });
    const seen: string[] = body.workspaces.map((w: { sid: string }) => w.sid);
    let next: string | null = body.meta.next_page_url;
    let pages = 1;
    while (next) {
      const res = await t.request({ url: next.slice(PUBLIC_URL.length), as: other });
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.meta.page).toBe(pages);
      expect(page.meta.previous_page_url).not.toBeNull();
      seen.push(...page.workspaces.map((w: { sid: string }) => w.sid));
      next = page.meta.next_page_url;
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
    // The default account sees none of them.
    const mine = (await t.request({ url: '/v1/Workspaces?FriendlyName=Paged' })).json();
    expect(mine.workspaces).toEqual([]);
  });

  it("hides another account's workspace behind a 404", async () => {
    const other = await t.newAccount();
    const ws = await createWorkspace('Private');
    for (const url of [
      `/v1/Workspaces/${ws.sid}`,
      `/v1/Workspaces/${ws.sid}/Workers`,
      `/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics`,
    ]) {
      const res = await t.request({ url, as: other });
      expect(res.statusCode, url).toBe(404);
      expectTwilioError(res.json(), 404, 20404);
    }
    const del = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}`, as: other });
    expect(del.statusCode).toBe(404);
    expect((await t.request({ url: `/v1/Workspaces/${ws.sid}` })).statusCode).toBe(200);
  });
});
