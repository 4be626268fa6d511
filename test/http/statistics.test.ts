import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/services/index.js';
import { basicAuth, createTestApp, openTestStore, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: string;
let activity: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Stats' } })).json()
    .sid;
  const acts = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` })).json().activities;
  activity = Object.fromEntries(
    acts.map((a: { friendly_name: string; sid: string }) => [a.friendly_name, a.sid]),
  );
});
afterAll(() => t.close());

interface Stats {
  total_workers: number;
  activity_statistics: { sid: string; friendly_name: string; workers: number }[];
}

async function stats(taskChannel?: string): Promise<Stats> {
  const q = taskChannel === undefined ? '' : `?TaskChannel=${encodeURIComponent(taskChannel)}`;
  const res = await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics${q}` });
  expect(res.statusCode, res.body).toBe(200);
  expectMatchesSpec('FetchWorkersRealTimeStatistics', 200, res.json());
  return res.json();
}

const byName = (s: Stats) =>
  Object.fromEntries(s.activity_statistics.map((a) => [a.friendly_name, a.workers]));

/** What the statistics must say, recounted from the workers and their channels through the API. */
async function recount(taskChannel?: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = { Offline: 0, Available: 0, Unavailable: 0 };
  const extra = (await t.request({ url: `/v1/Workspaces/${ws}/Activities?PageSize=1000` })).json().activities;
  for (const a of extra) counts[a.friendly_name] = 0;
  let next: string | null = `/v1/Workspaces/${ws}/Workers?PageSize=1000`;
  while (next) {
    const page: {
      workers: { sid: string; activity_name: string }[];
      meta: { next_page_url: string | null };
    } = (await t.request({ url: next })).json();
    for (const w of page.workers) {
      if (taskChannel !== undefined) {
        const ch = await t.request({ url: `/v1/Workspaces/${ws}/Workers/${w.sid}/Channels/${taskChannel}` });
        const c = ch.json();
        if (!(c.available && c.configured_capacity > 0)) continue;
      }
      counts[w.activity_name] = (counts[w.activity_name] ?? 0) + 1;
    }
    next = page.meta.next_page_url?.slice(PUBLIC_URL.length) ?? null;
  }
  return counts;
}

async function expectExact(): Promise<void> {
  for (const channel of [undefined, 'voice', 'chat']) {
    const s = await stats(channel);
    expect(byName(s), `TaskChannel=${channel}`).toEqual(await recount(channel));
    expect(s.total_workers).toBe(s.activity_statistics.reduce((n, a) => n + a.workers, 0));
  }
}

describe('Workers/RealTimeStatistics', () => {
  it('lists every activity with zeros for an empty workspace', async () => {
    const s = await stats();
    expect(s).toEqual({
      account_sid: t.account.sid,
      workspace_sid: ws,
      total_workers: 0,
      url: `${PUBLIC_URL}/v1/Workspaces/${ws}/Workers/RealTimeStatistics`,
      activity_statistics: [
        { sid: activity.Offline, friendly_name: 'Offline', workers: 0 },
        { sid: activity.Available, friendly_name: 'Available', workers: 0 },
        { sid: activity.Unavailable, friendly_name: 'Unavailable', workers: 0 },
      ],
    });
  });

  it('follows every write exactly, with and without TaskChannel', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const form: Record<string, string> = { FriendlyName: `w${i}` };
      if (i % 2 === 0) form.ActivitySid = activity.Available!;
      const res = await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form });
      sids.push(res.json().sid);
    }
    expect(byName(await stats())).toEqual({ Offline: 3, Available: 3, Unavailable: 0 });
    await expectExact();

    // Move workers between activities.
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers/${sids[1]}`,
      form: { ActivitySid: activity.Unavailable! },
    });
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers/${sids[0]}`,
      form: { ActivitySid: activity.Offline! },
    });
    // An update that keeps the activity changes nothing.
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers/${sids[2]}`,
      form: { ActivitySid: activity.Available! },
    });
    expect(byName(await stats())).toEqual({ Offline: 3, Available: 2, Unavailable: 1 });

    // Channels: unavailable, or capacity 0, leave the filtered counts; coming back returns.
    const ch = (sid: string, name: string, form: Record<string, string>) =>
      t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers/${sid}/Channels/${name}`, form });
    await ch(sids[2]!, 'voice', { Available: 'false' });
    await ch(sids[4]!, 'voice', { Capacity: '0' });
    await ch(sids[3]!, 'chat', { Available: 'false' });
    expect(byName(await stats('voice'))).toEqual({ Offline: 3, Available: 0, Unavailable: 1 });
    expect((await stats('voice')).total_workers).toBe(4);
    await ch(sids[4]!, 'voice', { Capacity: '2' });
    await ch(sids[4]!, 'voice', { Capacity: '3' }); // still eligible: no double count
    expect(byName(await stats('voice'))).toEqual({ Offline: 3, Available: 1, Unavailable: 1 });
    // A worker moving while a channel is ineligible doesn't touch that channel's counts.
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers/${sids[2]}`,
      form: { ActivitySid: activity.Unavailable! },
    });
    await expectExact();

    // Deletes, of a worker and of a task channel.
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/Workers/${sids[4]}` });
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/Workers/${sids[3]}` });
    await expectExact();
    expect((await stats()).total_workers).toBe(4);
  });

  it('counts new activities and task channels from the start', async () => {
    const busy = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Activities`,
      form: { FriendlyName: 'Busy', Available: 'false' },
    });
    expect(byName(await stats()).Busy).toBe(0);
    const w = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers`,
      form: { FriendlyName: 'busy-one', ActivitySid: busy.json().sid },
    });
    const email = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/TaskChannels`,
      form: { FriendlyName: 'Email', UniqueName: 'email' },
    });
    expect(email.statusCode).toBe(201);
    // Every existing worker got an available channel for it.
    expect((await stats('email')).total_workers).toBe((await stats()).total_workers);
    expect(byName(await stats(email.json().sid)).Busy).toBe(1);
    await expectExact();

    const del = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/TaskChannels/email` });
    expect(del.statusCode).toBe(204);
    expect(
      (await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics?TaskChannel=email` }))
        .statusCode,
    ).toBe(404);
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/Workers/${w.json().sid}` });
    await expectExact();
  });

  it('answers 404 for an unknown task channel or workspace', async () => {
    const res = await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics?TaskChannel=fax` });
    expect(res.statusCode).toBe(404);
    expectTwilioError(res.json(), 404, 20404);
    const tc = await t.request({
      url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics?TaskChannel=TC${'0'.repeat(32)}`,
    });
    expect(tc.statusCode).toBe(404);
    const none = await t.request({ url: `/v1/Workspaces/WS${'0'.repeat(32)}/Workers/RealTimeStatistics` });
    expect(none.statusCode).toBe(404);
  });

  it('is exact at the very next read, however the change was committed', async () => {
    const total = async () => (await stats()).total_workers;
    const before = await total();
    expect(await total()).toBe(before); // the second read may come from the service's memory
    const created = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers`,
      form: { FriendlyName: 'Memo' },
    });
    expect(await total()).toBe(before + 1);
    // Straight through the store, as a service of another kind would write.
    await t.store.transaction((tx) => tx.deleteWorker(created.json().sid));
    expect(await total()).toBe(before);
    // Through another connection to the same data, as another process (`roster seed`) writes.
    const another = openTestStore(t.dir);
    try {
      const theirs = await createServices(another).workers.create(t.account.sid, ws, {
        friendlyName: 'Elsewhere',
      });
      expect(await total()).toBe(before + 1);
      await another.transaction((tx) => tx.deleteWorker(theirs.sid));
      expect(await total()).toBe(before);
    } finally {
      await another.close();
    }
  });

  it('checks credentials and ownership on every read: a rotated token is refused at once', async () => {
    const url = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    for (let i = 0; i < 3; i++) expect((await t.request({ url })).statusCode).toBe(200);
    const other = await t.newAccount();
    const theirs = await t.request({ url, as: other });
    expect(theirs.statusCode).toBe(404);
    expectTwilioError(theirs.json(), 404, 20404);
    const original = t.account.token;
    try {
      await t.services.accounts.ensure(t.account.sid, 'token-rotated');
      const stale = await t.request({ url });
      expect(stale.statusCode).toBe(401);
      expectTwilioError(stale.json(), 401, 20003);
      const rotated = await t.request({
        url,
        headers: { authorization: basicAuth(t.account.sid, 'token-rotated') },
      });
      expect(rotated.statusCode).toBe(200);
    } finally {
      await t.services.accounts.ensure(t.account.sid, original);
    }
    expect((await t.request({ url })).statusCode).toBe(200);
  });

  it('answers HEAD as the GET, even asked for an event stream, and opens no stream', async () => {
    const url = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    for (const accept of ['application/json', 'text/event-stream']) {
      const head = await t.request({ method: 'HEAD', url, headers: { accept } });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(head.body).toBe('');
    }
    expect(t.app.statisticsStreams.size).toBe(0);
  });

  it('spends from the same rate limit as every other read', async () => {
    const limited = await createTestApp({ rateLimit: { readsPerSecond: 3, writesPerSecond: 0 } });
    try {
      const created = await limited.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'L' },
      });
      const url = `/v1/Workspaces/${created.json().sid}/Workers/RealTimeStatistics`;
      const remaining: string[] = [];
      for (const u of [url, `${url}?TaskChannel=voice`, '/v1/Workspaces']) {
        const res = await limited.request({ url: u });
        expect(res.statusCode).toBe(200);
        remaining.push(String(res.headers['x-rate-limit-remaining']));
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const over = await limited.request({ url });
      expect(over.statusCode).toBe(429);
      expectTwilioError(over.json(), 429, 20429);
    } finally {
      await limited.close();
    }
  });

  it('survives a restart on the same data directory', async () => {
    const before = await stats();
    const beforeVoice = await stats('voice');
    const dir = t.dir;
    const account = t.account;
    await t.app.close();
    await t.store.close();
    const again = await createTestApp({ dir });
    try {
      const res = await again.request({
        url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`,
        as: account,
      });
      expect(res.json()).toEqual(before);
      const voice = await again.request({
        url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics?TaskChannel=voice`,
        as: account,
      });
      expect(voice.json()).toEqual(beforeVoice);
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
    t = await createTestApp();
  });
});
