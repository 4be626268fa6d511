import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: { sid: string; default_activity_sid: string };

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Acts' } })).json();
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws.sid}/Activities${path}`;

describe('Activities', () => {
  it('creates, fetches, renames and deletes an activity', async () => {
    const created = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'Lunch', Available: 'no' },
    });
    expect(created.statusCode).toBe(201);
    const a = created.json();
    expectMatchesSpec('CreateActivity', 201, a);
    expect(a).toMatchObject({ friendly_name: 'Lunch', available: false, workspace_sid: ws.sid });
    expect(a.links.workspace).toMatch(new RegExp(`/v1/Workspaces/${ws.sid}$`));

    const fetched = await t.request({ url: url(`/${a.sid}`) });
    expectMatchesSpec('FetchActivity', 200, fetched.json());
    expect(fetched.json()).toEqual(a);

    const renamed = await t.request({
      method: 'POST',
      url: url(`/${a.sid}`),
      form: { FriendlyName: 'Long lunch' },
    });
    expect(renamed.statusCode).toBe(200);
    expectMatchesSpec('UpdateActivity', 200, renamed.json());
    expect(renamed.json()).toMatchObject({ friendly_name: 'Long lunch', available: false });

    // Available is fixed at creation: an update that sends it leaves it as it was.
    const ignored = await t.request({ method: 'POST', url: url(`/${a.sid}`), form: { Available: 'true' } });
    expect(ignored.json().available).toBe(false);

    expect((await t.request({ method: 'DELETE', url: url(`/${a.sid}`) })).statusCode).toBe(204);
    expect((await t.request({ url: url(`/${a.sid}`) })).statusCode).toBe(404);
  });

  it('defaults Available to false and refuses duplicate names case-insensitively', async () => {
    const a = (await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Training' } })).json();
    expect(a.available).toBe(false);
    const dup = await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'training' } });
    expect(dup.statusCode).toBe(400);
    expectTwilioError(dup.json(), 400, 20001);
    const renameDup = await t.request({
      method: 'POST',
      url: url(`/${a.sid}`),
      form: { FriendlyName: 'OFFLINE' },
    });
    expect(renameDup.statusCode).toBe(400);
    for (const form of [{}, { FriendlyName: '' }]) {
      expect((await t.request({ method: 'POST', url: url(), form })).statusCode).toBe(400);
    }
    // As the spec reads booleans here: anything but true/1/yes is false, not an error.
    const maybe = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'x', Available: 'maybe' },
    });
    expect(maybe.statusCode).toBe(201);
    expect(maybe.json().available).toBe(false);
    const yes = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'y', Available: 'YES' },
    });
    expect(yes.json().available).toBe(true);
    for (const sid of [maybe.json().sid, yes.json().sid]) {
      expect((await t.request({ method: 'DELETE', url: url(`/${sid}`) })).statusCode).toBe(204);
    }
  });

  it('filters by FriendlyName and Available', async () => {
    const all = (await t.request({ url: url() })).json();
    expectMatchesSpec('ListActivity', 200, all);
    const names = async (q: string) =>
      (await t.request({ url: url(q) }))
        .json()
        .activities.map((a: { friendly_name: string }) => a.friendly_name);
    expect(await names('?Available=true')).toEqual(['Available']);
    expect(await names('?Available=1')).toEqual(['Available']);
    expect(await names('?Available=yes')).toEqual(['Available']);
    expect(await names('?Available=false')).toEqual(['Offline', 'Unavailable', 'Training']);
    expect(await names('?FriendlyName=Offline')).toEqual(['Offline']);
    expect(await names('?FriendlyName=Nope')).toEqual([]);
    expect(await names('?Available=sometimes')).toEqual(['Offline', 'Unavailable', 'Training']);
  });

  it('refuses to delete an activity in use, or the default and timeout activity', async () => {
    const def = await t.request({ method: 'DELETE', url: url(`/${ws.default_activity_sid}`) });
    expect(def.statusCode).toBe(400);
    expectTwilioError(def.json(), 400, 20001);
    expect(def.json().message).toContain('default');

    const busy = (await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Busy' } })).json();
    const w = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Workers`,
      form: { FriendlyName: 'x', ActivitySid: busy.sid },
    });
    const inUse = await t.request({ method: 'DELETE', url: url(`/${busy.sid}`) });
    expect(inUse.statusCode).toBe(400);
    expect(inUse.json().message).toContain('1 worker');
    expect((await t.request({ url: url(`/${busy.sid}`) })).statusCode).toBe(200);

    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}/Workers/${w.json().sid}` });
    expect((await t.request({ method: 'DELETE', url: url(`/${busy.sid}`) })).statusCode).toBe(204);
    const stats = (await t.request({ url: `/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics` })).json();
    expect(stats.activity_statistics.map((a: { friendly_name: string }) => a.friendly_name)).not.toContain(
      'Busy',
    );
  });

  it('answers 404 for unknown or malformed activity SIDs', async () => {
    for (const sid of [`WA${'0'.repeat(32)}`, 'WA1', `WK${'0'.repeat(32)}`]) {
      expect((await t.request({ url: url(`/${sid}`) })).statusCode, sid).toBe(404);
    }
  });
});
