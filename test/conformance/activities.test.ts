import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
const ws = () => s.taskrouter.workspaces(wsSid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Activities' })).sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('Activities through the twilio SDK', () => {
  it('creates, fetches, updates and removes an activity', async () => {
    const created = await ws().activities.create({ friendlyName: 'Lunch', available: false });
    expect(created.sid).toMatch(/^WA[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      friendlyName: 'Lunch',
      available: false,
      url: `${s.url}/v1/Workspaces/${wsSid}/Activities/${created.sid}`,
      links: { workspace: `${s.url}/v1/Workspaces/${wsSid}` },
    });
    expect((await ws().activities(created.sid).fetch()).toJSON()).toEqual(created.toJSON());

    const renamed = await ws().activities(created.sid).update({ friendlyName: 'Long lunch' });
    expect(renamed).toMatchObject({ sid: created.sid, friendlyName: 'Long lunch', available: false });
    expect((await ws().activities(created.sid).fetch()).friendlyName).toBe('Long lunch');

    expect(await ws().activities(created.sid).remove()).toBe(true);
    await expectRestException(ws().activities(created.sid).fetch(), 404, 20404);
  });

  it('creates an available activity, and one that is unavailable by default', async () => {
    const busy = await ws().activities.create({ friendlyName: 'Busy' });
    expect(busy.available).toBe(false);
    const ready = await ws().activities.create({ friendlyName: 'Ready', available: true });
    expect(ready.available).toBe(true);
  });

  it('lists activities, filtered by FriendlyName and Available', async () => {
    await ws().activities.create({ friendlyName: 'Training', available: true });
    const names = async (opts: { friendlyName?: string; available?: string }) =>
      (await ws().activities.list(opts)).map((a) => a.friendlyName);

    const all = await names({});
    expect(all.slice(0, 3)).toEqual(['Offline', 'Available', 'Unavailable']);
    expect(all).toContain('Training');
    expect(await names({ friendlyName: 'Training' })).toEqual(['Training']);
    expect(await names({ friendlyName: 'Nothing like it' })).toEqual([]);

    const available = await names({ available: 'true' });
    expect(available).toEqual(expect.arrayContaining(['Available', 'Training']));
    expect(available).not.toContain('Offline');
    expect(await names({ available: '1' })).toEqual(available);
    expect(await names({ available: 'yes' })).toEqual(available);
    const unavailable = await names({ available: 'false' });
    expect(unavailable).toEqual(expect.arrayContaining(['Offline', 'Unavailable']));
    expect(unavailable).not.toContain('Training');
    expect(unavailable.length + available.length).toBe(all.length);
    expect(await names({ friendlyName: 'Training', available: 'false' })).toEqual([]);
  });

  it('pages through activities with the SDK', async () => {
    const all = await ws().activities.list();
    const paged = await ws().activities.list({ pageSize: 2 });
    expect(paged.map((a) => a.sid)).toEqual(all.map((a) => a.sid));
    expect(await ws().activities.list({ limit: 2 })).toHaveLength(2);
  });

  it('refuses to remove an activity a worker is in, or the default or timeout activity (400 / 20001)', async () => {
    const meeting = await ws().activities.create({ friendlyName: 'Meeting' });
    const worker = await ws().workers.create({ friendlyName: 'In a meeting', activitySid: meeting.sid });
    await expectRestException(ws().activities(meeting.sid).remove(), 400, 20001);
    expect((await ws().activities(meeting.sid).fetch()).friendlyName).toBe('Meeting');

    // Once the worker has left it, the activity can go.
    const workspace = await ws().fetch();
    await ws().workers(worker.sid).update({ activitySid: workspace.defaultActivitySid });
    expect(await ws().activities(meeting.sid).remove()).toBe(true);

    await expectRestException(ws().activities(workspace.defaultActivitySid).remove(), 400, 20001);
    const available = (await ws().activities.list({ friendlyName: 'Available' }))[0]!;
    await ws().update({ timeoutActivitySid: available.sid });
    await expectRestException(ws().activities(available.sid).remove(), 400, 20001);
    await ws().update({ timeoutActivitySid: workspace.defaultActivitySid });
  });

  it('answers unknown activities with 404 / 20404 and bad parameters with 400 / 20001', async () => {
    const unknown = 'WA' + '0'.repeat(32);
    await expectRestException(ws().activities(unknown).fetch(), 404, 20404);
    await expectRestException(ws().activities(unknown).update({ friendlyName: 'x' }), 404, 20404);
    await expectRestException(ws().activities(unknown).remove(), 404, 20404);
    const message = await expectRestException(ws().activities.create({ friendlyName: '' }), 400, 20001);
    expect(message).toContain('FriendlyName');
  });
});
