import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

/** The Events resource: read from the event log, filtered and keyset-paged as Twilio's spec says. */
const START = Date.parse('2026-01-05T10:00:00Z');
const clock = new ManualClock(START);
let t: TestApp;
let ws: string;
let available: string;
let offline: string;
let worker: string;

const url = (path = '') => `/v1/Workspaces/${ws}/Events${path}`;

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(clock.now()) });
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Evented' } })).json()
    .sid;
  const activities = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` })).json().activities as {
    sid: string;
    friendly_name: string;
  }[];
  available = activities.find((a) => a.friendly_name === 'Available')!.sid;
  offline = activities.find((a) => a.friendly_name === 'Offline')!.sid;
  clock.advance(60_000);
  worker = (
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers`,
      form: { FriendlyName: 'Alice', Attributes: '{"skills":["en"]}' },
    })
  ).json().sid;
  clock.advance(90_500);
  await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/Workers/${worker}`,
    form: { ActivitySid: available },
  });
  clock.advance(1_000);
  await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/Workers/${worker}/Channels/voice`,
    form: { Capacity: '3' },
  });
});
afterAll(() => t.close());

type EventJson = Record<string, unknown> & {
  event_type: string;
  sid: string;
  event_data: Record<string, string>;
};

describe(`Events`, () => {
  it('lists the last 15 minutes oldest first with every field, each matching the spec', async () => {
    const res = await t.request({ url: url() });
    expect(res.statusCode).toBe(200);
    expectMatchesSpec('ListEvent', 200, res.json());
    const events = res.json().events as EventJson[];
    expect(events.map((e) => e.event_type)).toEqual([
      'workspace.created',
      'activity.created',
      'activity.created',
      'activity.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'worker.created',
      'worker.activity.update',
      'worker.capacity.update',
    ]);
    const update = events[10]!;
    expect(update).toMatchObject({
      account_sid: t.account.sid,
      actor_sid: t.account.sid,
      actor_type: 'account',
      description: 'Worker Alice updated to Available Activity',
      event_date: '2026-01-05T10:02:30Z',
      event_date_ms: START + 150_500,
      resource_sid: worker,
      resource_type: 'worker',
      resource_url: `http://roster.test/v1/Workspaces/${ws}/Workers/${worker}`,
      source: 'api',
      source_ip_address: '127.0.0.1',
      workspace_sid: ws,
      url: `http://roster.test/v1/Workspaces/${ws}/Events/${update.sid}`,
    });
    expect(update.sid).toMatch(/^EV[0-9a-f]{32}$/);
    expect(update.event_data).toEqual({
      worker_sid: worker,
      worker_name: 'Alice',
      worker_activity_sid: available,
      worker_activity_name: 'Available',
      worker_available: 'true',
      worker_attributes: '{"skills":["en"]}',
      worker_previous_activity_sid: offline,
      worker_previous_activity_name: 'Offline',
      worker_time_in_previous_activity: '90',
      worker_time_in_previous_activity_ms: '90000',
      workspace_sid: ws,
      workspace_name: 'Evented',
    });
    expect(events[11]!.event_data).toMatchObject({
      worker_sid: worker,
      task_channel_unique_name: 'voice',
      worker_channel_capacity: '3',
      worker_channel_previous_capacity: '1',
      worker_channel_available: 'true',
      worker_channel_task_count: '0',
      worker_channel_available_capacity: '100',
    });
  });

  it('fetches one event by its SID, the same as listed', async () => {
    const listed = (await t.request({ url: url('?EventType=worker.activity.update') })).json()
      .events as EventJson[];
    expect(listed).toHaveLength(1);
    const res = await t.request({ url: url(`/${listed[0]!.sid}`) });
    expect(res.statusCode).toBe(200);
    expectMatchesSpec('FetchEvent', 200, res.json());
    expect(res.json()).toEqual(listed[0]);
    expectTwilioError((await t.request({ url: url(`/EV${'0'.repeat(32)}`) })).json(), 404, 20404);
    expectTwilioError((await t.request({ url: url('/nope') })).json(), 404, 20404);
  });

  it('filters by type, resource SIDs, task channel, SID and window', async () => {
    const types = async (query: string) =>
      ((await t.request({ url: url(query) })).json().events as EventJson[]).map((e) => e.event_type);
    expect(await types(`?WorkerSid=${worker}`)).toEqual([
      'worker.created',
      'worker.activity.update',
      'worker.capacity.update',
    ]);
    expect(await types(`?WorkerSid=${worker}&EventType=worker.created`)).toEqual(['worker.created']);
    expect(await types('?TaskChannel=voice')).toEqual(['task-channel.created', 'worker.capacity.update']);
    expect(await types('?TaskChannel=nosuchchannel')).toEqual([]);
    expect(await types(`?TaskSid=WT${'0'.repeat(32)}`)).toEqual([]);
    expect(await types(`?ReservationSid=WR${'0'.repeat(32)}&TaskQueueSid=WQ${'0'.repeat(32)}`)).toEqual([]);
    // Minutes counts back from now: the worker's changes are within the last 2 minutes.
    expect(await types('?Minutes=1')).toEqual(['worker.activity.update', 'worker.capacity.update']);
    expect(await types('?StartDate=2026-01-05T10:01:00Z&EndDate=2026-01-05T10:02:00Z')).toEqual([
      'worker.created',
    ]);
    const one = (
      (await t.request({ url: url('?EventType=worker.created') })).json().events as EventJson[]
    )[0]!;
    expect(await types(`?Sid=${one.sid}`)).toEqual(['worker.created']);
    clock.advance(16 * 60_000);
    expect(await types('')).toEqual([]);
    expect((await types('?Minutes=30')).length).toBe(12);
    clock.advance(-16 * 60_000);
  });

  it('pages by next_page_url and previous_page_url, the meta carrying the filters', async () => {
    const first = (await t.request({ url: url('?PageSize=5&EventType=task-channel.created') })).json();
    expect(first.events).toHaveLength(5);
    expect(first.meta.next_page_url).toBeNull();
    const all: EventJson[] = [];
    let next: string | null = url('?PageSize=5');
    let pages = 0;
    while (next) {
      const page = (await t.request({ url: next.replace('http://roster.test', '') })).json();
      expectMatchesSpec('ListEvent', 200, page);
      all.push(...(page.events as EventJson[]));
      next = page.meta.next_page_url as string | null;
      pages++;
      if (next) expect(next).toContain('PageToken=PA');
    }
    expect(pages).toBe(3);
    expect(all).toHaveLength(12);
    expect(new Set(all.map((e) => e.sid)).size).toBe(12);
    const second = (await t.request({ url: url('?PageSize=5') })).json();
    const third = (
      await t.request({ url: second.meta.next_page_url.replace('http://roster.test', '') })
    ).json();
    const back = (
      await t.request({ url: third.meta.previous_page_url.replace('http://roster.test', '') })
    ).json();
    expect(back.events).toEqual(second.events);
  });

  it('refuses malformed filters with a 400', async () => {
    for (const q of [
      '?Minutes=abc',
      '?Minutes=0',
      '?StartDate=yesterday',
      '?EndDate=2026-13-45T99:00:00Z',
      '?WorkerSid=WQ123',
      '?Sid=EVnothex',
      '?PageToken=garbage',
      '?StartDate=2026-01-06T00:00:00Z&EndDate=2026-01-05T00:00:00Z',
    ]) {
      expectTwilioError((await t.request({ url: url(q) })).json(), 400, 20001);
    }
  });

  it("is the workspace's own: another account gets a 404", async () => {
    const other = await t.newAccount();
    expectTwilioError((await t.request({ url: url(), as: other })).json(), 404, 20404);
  });
});
