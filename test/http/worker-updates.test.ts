import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

// The update answers with the worker as the store returned it from the write itself; these pin
// that answer to what a fetch right after it reads, as the clock moves.
let t: TestApp;
let clock = new Date('2024-05-06T07:08:09Z');
let ws: string;
let activity: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Updates' } })).json()
    .sid;
  const acts = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` })).json().activities;
  activity = Object.fromEntries(
    acts.map((a: { friendly_name: string; sid: string }) => [a.friendly_name, a.sid]),
  );
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws}/Workers${path}`;
const later = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));

describe('Worker updates', () => {
  it('answer what a fetch right after them reads: body, ETag, dates, activity', async () => {
    const created = (await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Erin' } })).json();
    const steps: { form: Record<string, string>; statusMoves: boolean; name: string; available: boolean }[] =
      [
        { form: { ActivitySid: activity.Available! }, statusMoves: true, name: 'Available', available: true },
        { form: { Attributes: '{"x":1}' }, statusMoves: false, name: 'Available', available: true },
        {
          form: { ActivitySid: activity.Available!, Attributes: '{"x":2}' },
          statusMoves: false,
          name: 'Available',
          available: true,
        },
        {
          form: { ActivitySid: activity.Unavailable!, FriendlyName: 'Erin B' },
          statusMoves: true,
          name: 'Unavailable',
          available: false,
        },
      ];
    let statusChanged = created.date_status_changed as string;
    for (const [i, step] of steps.entries()) {
      const at = later(5).toISOString().replace('.000Z', 'Z');
      const updated = await t.request({ method: 'POST', url: url(`/${created.sid}`), form: step.form });
      expect(updated.statusCode, updated.body).toBe(200);
      if (step.statusMoves) statusChanged = at;
      expect(updated.json()).toMatchObject({
        activity_name: step.name,
        available: step.available,
        date_updated: at,
        date_status_changed: statusChanged,
        date_created: created.date_created,
      });
      expect(updated.headers.etag).toBe(`"${i + 1}"`);
      const fetched = await t.request({ url: url(`/${created.sid}`) });
      expect(fetched.json()).toEqual(updated.json());
      expect(fetched.headers.etag).toBe(updated.headers.etag);
    }
  });

  it("refuses writes to another account's workspace and to unknown workers, changing nothing", async () => {
    const worker = (await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Finn' } })).json();
    const other = await t.newAccount();
    const writes = [
      { method: 'POST' as const, url: url(`/${worker.sid}`), form: { ActivitySid: activity.Available! } },
      { method: 'POST' as const, url: url(`/${worker.sid}/Channels/voice`), form: { Available: 'false' } },
      { method: 'DELETE' as const, url: url(`/${worker.sid}`) },
    ];
    for (const w of writes) {
      const res = await t.request({ ...w, as: other });
      expect(res.statusCode, `${w.method} ${w.url}`).toBe(404);
      expect(res.json().message).toContain(ws);
    }
    const missing = await t.request({
      method: 'POST',
      url: url('/WK' + '0'.repeat(32)),
      form: { ActivitySid: 'WA' + 'f'.repeat(32) },
    });
    expect(missing.statusCode).toBe(404);
    const badActivity = await t.request({
      method: 'POST',
      url: url(`/${worker.sid}`),
      form: { ActivitySid: 'WA' + 'f'.repeat(32) },
    });
    expect(badActivity.statusCode).toBe(400);
    const fetched = await t.request({ url: url(`/${worker.sid}`) });
    expect(fetched.json()).toEqual(worker);
    expect(fetched.headers.etag).toBe('"0"');
  });

  it('that change nothing keep the ETag and date_updated and log no event', async () => {
    const created = (
      await t.request({
        method: 'POST',
        url: url(),
        form: { FriendlyName: 'Gail', Attributes: '{"a":1}', ActivitySid: activity.Available! },
      })
    ).json();
    const events = async () => (await t.store.listEvents(ws, 0, 100_000)).length;
    const logged = await events();
    later(5);
    const same = [
      {},
      { FriendlyName: 'Gail' },
      { ActivitySid: activity.Available! },
      { Attributes: '{"a":1}' },
      { FriendlyName: 'Gail', ActivitySid: activity.Available!, Attributes: '{"a":1}' },
    ];
    for (const form of same) {
      for (const headers of [{}, { 'if-match': '"0"' }]) {
        const res = await t.request({ method: 'POST', url: url(`/${created.sid}`), form, headers });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.headers.etag).toBe('"0"');
        expect(res.json()).toEqual(created);
      }
    }
    const voice = (await t.request({ url: url(`/${created.sid}/Channels/voice`) })).json();
    for (const form of [
      {},
      { Capacity: String(voice.configured_capacity) },
      { Available: String(voice.available) },
    ]) {
      const res = await t.request({ method: 'POST', url: url(`/${created.sid}/Channels/voice`), form });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual(voice);
    }
    expect((await t.request({ url: url(`/${created.sid}`) })).json()).toEqual(created);
    expect(await events()).toBe(logged);

    // A case-only rename is a change.
    const renamed = await t.request({
      method: 'POST',
      url: url(`/${created.sid}`),
      form: { FriendlyName: 'gail' },
    });
    expect(renamed.headers.etag).toBe('"1"');
    expect(renamed.json().date_updated).not.toBe(created.date_updated);
    expect(await events()).toBe(logged + 1);
  });
});
