import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: string;
let activity: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  const res = await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Workers' } });
  ws = res.json().sid;
  const acts = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` })).json().activities;
  activity = Object.fromEntries(
    acts.map((a: { friendly_name: string; sid: string }) => [a.friendly_name, a.sid]),
  );
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws}/Workers${path}`;

async function createWorker(form: Record<string, string>) {
  const res = await t.request({ method: 'POST', url: url(), form });
  expect(res.statusCode, res.body).toBe(201);
  expectMatchesSpec('CreateWorker', 201, res.json());
  return res;
}

describe('Workers', () => {
  it('creates a worker in the default activity with one channel per task channel', async () => {
    const res = await createWorker({ FriendlyName: 'Alice', Attributes: '{"skills":["en","es"]}' });
    const w = res.json();
    expect(w).toMatchObject({
      friendly_name: 'Alice',
      activity_name: 'Offline',
      activity_sid: activity.Offline,
      available: false,
      attributes: '{"skills":["en","es"]}',
      workspace_sid: ws,
      account_sid: t.account.sid,
      url: `${PUBLIC_URL}${url('/' + w.sid)}`,
    });
    expect(w.date_status_changed).toBe(w.date_created);
    expect(res.headers.etag).toBe('"0"');
    const wsUrl = `${PUBLIC_URL}/v1/Workspaces/${ws}`;
    // Twilio's nine links, exactly.
    expect(w.links).toEqual({
      channels: `${w.url}/Channels`,
      activity: `${wsUrl}/Activities/${activity.Offline}`,
      workspace: wsUrl,
      reservations: `${w.url}/Reservations`,
      statistics: `${wsUrl}/Workers/Statistics`,
      real_time_statistics: `${wsUrl}/Workers/RealTimeStatistics`,
      cumulative_statistics: `${wsUrl}/Workers/CumulativeStatistics`,
      worker_statistics: `${w.url}/Statistics`,
      worker_channels: `${w.url}/Channels`,
    });

    const channels = await t.request({ url: url(`/${w.sid}/Channels`) });
    expect(channels.statusCode).toBe(200);
    expectMatchesSpec('ListWorkerChannel', 200, channels.json());
    expect(
      channels.json().channels.map((c: { task_channel_unique_name: string }) => c.task_channel_unique_name),
    ).toEqual(['default', 'voice', 'sms', 'video', 'chat']);
    expect(channels.json().channels[0]).toMatchObject({
      configured_capacity: 1,
      available: true,
      assigned_tasks: 0,
      available_capacity_percentage: 100,
      worker_sid: w.sid,
    });
  });

  it('creates a worker in a given activity, with {} attributes by default', async () => {
    const w = (await createWorker({ FriendlyName: 'Bob', ActivitySid: activity.Available! })).json();
    expect(w).toMatchObject({ activity_name: 'Available', available: true, attributes: '{}' });
  });

  it('refuses bad input on create', async () => {
    const cases: Record<string, string>[] = [
      {},
      { FriendlyName: '   ' },
      { FriendlyName: 'x'.repeat(65) },
      { FriendlyName: 'c', Attributes: 'not json' },
      { FriendlyName: 'c', Attributes: '[1,2]' },
      { FriendlyName: 'c', Attributes: '"str"' },
      { FriendlyName: 'c', Attributes: '['.repeat(100) + ']'.repeat(100) },
      { FriendlyName: 'c', ActivitySid: 'WA123' },
      { FriendlyName: 'c', ActivitySid: 'WA' + 'f'.repeat(32) },
      { FriendlyName: 'alice' }, // taken, case-insensitively
    ];
    for (const form of cases) {
      const res = await t.request({ method: 'POST', url: url(), form });
      expect(res.statusCode, JSON.stringify(form).slice(0, 80)).toBe(400);
      expectTwilioError(res.json(), 400, 20001);
    }
    const list = (await t.request({ url: url('?FriendlyName=c') })).json();
    expect(list.workers).toEqual([]);
  });

  it('updates activity, attributes and name; date_status_changed moves only with the activity', async () => {
    const w = (await createWorker({ FriendlyName: 'Carol' })).json();
    const renamed = await t.request({
      method: 'POST',
      url: url(`/${w.sid}`),
      form: { FriendlyName: 'Caroline', Attributes: '{"level":2}' },
    });
    expect(renamed.statusCode).toBe(200);
    expectMatchesSpec('UpdateWorker', 200, renamed.json());
    expect(renamed.json()).toMatchObject({ friendly_name: 'Caroline', attributes: '{"level":2}' });
    expect(renamed.json().date_status_changed).toBe(w.date_status_changed);
    expect(renamed.headers.etag).toBe('"1"');

    const moved = await t.request({
      method: 'POST',
      url: url(`/${w.sid}`),
      form: { ActivitySid: activity.Available! },
    });
    expect(moved.json()).toMatchObject({
      activity_sid: activity.Available,
      activity_name: 'Available',
      available: true,
    });
    expect(moved.headers.etag).toBe('"2"');

    const fetched = await t.request({ url: url(`/${w.sid}`) });
    expectMatchesSpec('FetchWorker', 200, fetched.json());
    expect(fetched.json()).toEqual(moved.json());
    expect(fetched.headers.etag).toBe('"2"');

    const bad = await t.request({ method: 'POST', url: url(`/${w.sid}`), form: { Attributes: '{' } });
    expect(bad.statusCode).toBe(400);
    expect((await t.request({ url: url(`/${w.sid}`) })).json().attributes).toBe('{"level":2}');
  });

  it('refuses bad updates with Twilio errors, and changes nothing', async () => {
    const w = (await createWorker({ FriendlyName: 'Refused' })).json();
    await createWorker({ FriendlyName: 'Taken' });
    const other = await t.newAccount();
    const theirs = (
      await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Theirs' }, as: other })
    ).json();
    const theirActivity = theirs.default_activity_sid as string;
    const path = url(`/${w.sid}`);
    const zeros = '0'.repeat(32);
    const cases: [string, string, number][] = [
      [url(`/WK${zeros}`), `ActivitySid=${activity.Offline}`, 404],
      [`/v1/Workspaces/WS${zeros}/Workers/${w.sid}`, `ActivitySid=${activity.Offline}`, 404],
      [`/v1/Workspaces/${theirs.sid}/Workers/${w.sid}`, `ActivitySid=${activity.Offline}`, 404],
      [path, 'ActivitySid=WAnope', 400],
      [path, `ActivitySid=${theirActivity}`, 400],
      [path, `ActivitySid=WA${zeros}`, 400],
      [path, 'Attributes=%7Bnot-json', 400],
      [path, 'Attributes=%5B1%5D', 400],
      [path, 'FriendlyName=taken', 400],
      [path, 'FriendlyName=', 400],
      [path, 'RejectPendingReservations=maybe', 400],
      [path, 'ActivitySid=%ZZ', 400],
      [path, `ActivitySid=${activity.Offline}&ActivitySid=${activity.Available}`, 400],
    ];
    const before = (await t.request({ url: path })).body;
    for (const [target, body, status] of cases) {
      const res = await t.app.inject({
        method: 'POST',
        url: target,
        headers: { authorization: t.account.auth, 'content-type': 'application/x-www-form-urlencoded' },
        payload: body,
      });
      expect(res.statusCode, `${target} ${body}`).toBe(status);
      expectTwilioError(res.json(), status, status === 404 ? 20404 : 20001);
    }
    expect((await t.request({ url: path })).body).toBe(before);
  });

  it('honours If-Match on update and delete', async () => {
    const w = (await createWorker({ FriendlyName: 'Dave' })).json();
    const stale = await t.request({
      method: 'POST',
      url: url(`/${w.sid}`),
      form: { FriendlyName: 'Dave2' },
      headers: { 'if-match': '"7"' },
    });
    expect(stale.statusCode).toBe(412);
    expectTwilioError(stale.json(), 412, 20412);
    expect((await t.request({ url: url(`/${w.sid}`) })).json().friendly_name).toBe('Dave');

    // The ETag is "0"; a client may send it quoted, unquoted or weak.
    const ok = await t.request({
      method: 'POST',
      url: url(`/${w.sid}`),
      form: { FriendlyName: 'Dave2' },
      headers: { 'if-match': '0' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"1"');
    const weak = await t.request({
      method: 'POST',
      url: url(`/${w.sid}`),
      form: { FriendlyName: 'Dave3' },
      headers: { 'if-match': 'W/"1"' },
    });
    expect(weak.statusCode).toBe(200);
    const delStale = await t.request({
      method: 'DELETE',
      url: url(`/${w.sid}`),
      headers: { 'if-match': '"0"' },
    });
    expect(delStale.statusCode).toBe(412);
    expectTwilioError(delStale.json(), 412, 20412);
    const del = await t.request({ method: 'DELETE', url: url(`/${w.sid}`), headers: { 'if-match': '"2"' } });
    expect(del.statusCode).toBe(204);
    expect((await t.request({ url: url(`/${w.sid}`) })).statusCode).toBe(404);
  });

  it('lists with filters', async () => {
    const all = (await t.request({ url: url() })).json();
    expectMatchesSpec('ListWorker', 200, all);
    const names = (body: { workers: { friendly_name: string }[] }) =>
      body.workers.map((w) => w.friendly_name).sort();
    expect(names((await t.request({ url: url(`?ActivitySid=${activity.Available}`) })).json())).toEqual(
      names((await t.request({ url: url('?ActivityName=available') })).json()),
    );
    expect(names((await t.request({ url: url('?Available=true') })).json())).toEqual(['Bob', 'Caroline']);
    expect(names((await t.request({ url: url('?Available=0') })).json())).toContain('Alice');
    expect(names((await t.request({ url: url('?FriendlyName=ALICE') })).json())).toEqual(['Alice']);
    // Anything but true/1/yes reads as false, as the spec says for this filter.
    const perhaps = await t.request({ url: url('?Available=perhaps') });
    expect(perhaps.statusCode).toBe(200);
    expect(names(perhaps.json())).toEqual(names((await t.request({ url: url('?Available=false') })).json()));
    expect(names(perhaps.json())).toContain('Alice');
    const unknownOrdering = await t.request({ url: url('?Ordering=FriendlyName:asc') });
    expect(unknownOrdering.statusCode).toBe(400);
    expect(unknownOrdering.json().message).toContain('Ordering');
    const meta = (await t.request({ url: url('?Available=true&PageSize=1') })).json().meta;
    expect(meta.first_page_url).toBe(`${PUBLIC_URL}${url('?Available=true&PageSize=1&Page=0')}`);
    expect(meta.next_page_url).toContain('Available=true');
  });

  it('shows attributes when one worker is answered, and null in list pages (as the spec says)', async () => {
    const w = (await createWorker({ FriendlyName: 'Attributed', Attributes: '{"skills":["fr"]}' })).json();
    expect(w.attributes).toBe('{"skills":["fr"]}');
    expect((await t.request({ url: url(`/${w.sid}`) })).json().attributes).toBe('{"skills":["fr"]}');
    const page = (await t.request({ url: url('?FriendlyName=Attributed') })).json();
    expectMatchesSpec('ListWorker', 200, page);
    expect(page.workers).toEqual([{ ...w, attributes: null }]);
    const all = (await t.request({ url: url('?PageSize=1000') })).json().workers;
    expect(all.length).toBeGreaterThan(1);
    expect(all.map((x: { attributes: unknown }) => x.attributes)).toEqual(all.map(() => null));
  });

  it('answers 404 for unknown and malformed worker SIDs', async () => {
    for (const sid of ['WK' + '0'.repeat(32), 'WKnothex', 'WS' + '0'.repeat(32), 'x']) {
      const res = await t.request({ url: url(`/${sid}`) });
      expect(res.statusCode, sid).toBe(404);
      expectTwilioError(res.json(), 404, 20404);
      expect((await t.request({ method: 'POST', url: url(`/${sid}`), form: {} })).statusCode).toBe(404);
      expect((await t.request({ method: 'DELETE', url: url(`/${sid}`) })).statusCode).toBe(404);
    }
  });
});

describe('Worker channels', () => {
  it('fetches by SID and by task channel unique name, and updates capacity and availability', async () => {
    const w = (await createWorker({ FriendlyName: 'Erin' })).json();
    const list = (await t.request({ url: url(`/${w.sid}/Channels`) })).json().channels;
    const voice = list.find(
      (c: { task_channel_unique_name: string }) => c.task_channel_unique_name === 'voice',
    );
    const bySid = await t.request({ url: url(`/${w.sid}/Channels/${voice.sid}`) });
    expect(bySid.statusCode).toBe(200);
    expectMatchesSpec('FetchWorkerChannel', 200, bySid.json());
    expect(bySid.json()).toEqual(voice);
    const byName = await t.request({ url: url(`/${w.sid}/Channels/voice`) });
    expect(byName.json()).toEqual(voice);
    const byTaskChannelSid = await t.request({ url: url(`/${w.sid}/Channels/${voice.task_channel_sid}`) });
    expect(byTaskChannelSid.statusCode).toBe(200);
    expect(byTaskChannelSid.json()).toEqual(voice);
    const sms = list.find((c: { task_channel_unique_name: string }) => c.task_channel_unique_name === 'sms');
    const viaTc = await t.request({
      method: 'POST',
      url: url(`/${w.sid}/Channels/${sms.task_channel_sid}`),
      form: { Capacity: '2' },
    });
    expect(viaTc.statusCode).toBe(200);
    expect(viaTc.json()).toMatchObject({
      sid: sms.sid,
      task_channel_sid: sms.task_channel_sid,
      configured_capacity: 2,
    });
    // Another workspace's task channel is not one of this worker's.
    const other = (
      await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Other' } })
    ).json();
    const theirs = (await t.request({ url: `/v1/Workspaces/${other.sid}/TaskChannels/voice` })).json();
    const notHers = await t.request({ url: url(`/${w.sid}/Channels/${theirs.sid}`) });
    expectTwilioError(notHers.json(), 404, 20404);

    const updated = await t.request({
      method: 'POST',
      url: url(`/${w.sid}/Channels/voice`),
      form: { Capacity: '3', Available: 'false' },
    });
    expect(updated.statusCode).toBe(200);
    expectMatchesSpec('UpdateWorkerChannel', 200, updated.json());
    expect(updated.json()).toMatchObject({
      configured_capacity: 3,
      available: false,
      available_capacity_percentage: 0,
    });
    const back = await t.request({
      method: 'POST',
      url: url(`/${w.sid}/Channels/${voice.sid}`),
      form: { Available: 'yes' },
    });
    expect(back.json()).toMatchObject({
      configured_capacity: 3,
      available: true,
      available_capacity_percentage: 100,
    });

    for (const form of <Record<string, string>[]>[
      { Capacity: '-1' },
      { Capacity: 'lots' },
      { Capacity: '1.5' },
      { Available: 'sometimes' },
    ]) {
      const res = await t.request({ method: 'POST', url: url(`/${w.sid}/Channels/voice`), form });
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
    }
    expect((await t.request({ url: url(`/${w.sid}/Channels/fax`) })).statusCode).toBe(404);
    expect((await t.request({ url: url(`/WK${'0'.repeat(32)}/Channels`) })).statusCode).toBe(404);
  });
});
