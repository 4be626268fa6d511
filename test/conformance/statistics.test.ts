import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

interface ActivityStatistic {
  sid: string;
  friendly_name: string;
  workers: number;
}

async function setUp(name: string) {
  const wsSid = (await s.taskrouter.workspaces.create({ friendlyName: name })).sid;
  const ws = s.taskrouter.workspaces(wsSid);
  const acts = await ws.activities.list();
  const activity = Object.fromEntries(acts.map((a) => [a.friendlyName, a.sid]));
  /** The counts by activity name, and the total, as the SDK reads them. */
  const stats = async (taskChannel?: string) => {
    const context = ws.workers.realTimeStatistics();
    const st = await (taskChannel === undefined ? context.fetch() : context.fetch({ taskChannel }));
    expect(st).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      url: `${s.url}/v1/Workspaces/${wsSid}/Workers/RealTimeStatistics`,
    });
    const rows = st.activityStatistics as ActivityStatistic[];
    // Every activity of the workspace, each once, zeros included.
    const current = await ws.activities.list();
    expect(rows.map((r) => r.sid).sort()).toEqual(current.map((a) => a.sid).sort());
    const counts = Object.fromEntries(rows.map((r) => [r.friendly_name, r.workers]));
    return { total: st.totalWorkers, ...counts };
  };
  return { wsSid, ws, activity, stats };
}

describe('Workers/RealTimeStatistics through the twilio SDK', () => {
  it('counts every activity, zeros included, in a stable order', async () => {
    const { ws, stats } = await setUp('Empty stats');
    expect(await stats()).toEqual({ total: 0, Offline: 0, Available: 0, Unavailable: 0 });
    expect(await stats('voice')).toEqual({ total: 0, Offline: 0, Available: 0, Unavailable: 0 });
    const a = await ws.workers.realTimeStatistics().fetch();
    const b = await ws.workers.realTimeStatistics().fetch();
    expect(a.activityStatistics).toEqual(b.activityStatistics);
  });

  it('follows workers as they are created, move between activities and are removed', async () => {
    const { ws, activity, stats } = await setUp('Moving stats');
    const w1 = await ws.workers.create({ friendlyName: 'One' });
    const w2 = await ws.workers.create({ friendlyName: 'Two', activitySid: activity.Available });
    const w3 = await ws.workers.create({ friendlyName: 'Three', activitySid: activity.Available });
    expect(await stats()).toEqual({ total: 3, Offline: 1, Available: 2, Unavailable: 0 });

    await ws.workers(w1.sid).update({ activitySid: activity.Unavailable });
    await ws.workers(w2.sid).update({ activitySid: activity.Unavailable });
    expect(await stats()).toEqual({ total: 3, Offline: 0, Available: 1, Unavailable: 2 });

    // Changing only the name or attributes moves nothing.
    await ws.workers(w3.sid).update({ friendlyName: 'Three renamed', attributes: '{"a":1}' });
    expect(await stats()).toEqual({ total: 3, Offline: 0, Available: 1, Unavailable: 2 });

    const meeting = await ws.activities.create({ friendlyName: 'Meeting' });
    expect(await stats()).toEqual({ total: 3, Offline: 0, Available: 1, Unavailable: 2, Meeting: 0 });
    await ws.workers(w3.sid).update({ activitySid: meeting.sid });
    expect(await stats()).toEqual({ total: 3, Offline: 0, Available: 0, Unavailable: 2, Meeting: 1 });

    await ws.workers(w1.sid).remove();
    expect(await stats()).toEqual({ total: 2, Offline: 0, Available: 0, Unavailable: 1, Meeting: 1 });
  });

  it('with TaskChannel counts only workers whose channel is available with capacity > 0', async () => {
    const { ws, activity, stats } = await setUp('Channel stats');
    const w = [];
    for (const name of ['A', 'B', 'C', 'D']) w.push(await ws.workers.create({ friendlyName: name }));
    await ws.workers(w[0]!.sid).update({ activitySid: activity.Available });
    await ws.workers(w[1]!.sid).update({ activitySid: activity.Available });
    await ws.workers(w[2]!.sid).update({ activitySid: activity.Unavailable });
    const everyone = { total: 4, Offline: 1, Available: 2, Unavailable: 1 };
    expect(await stats()).toEqual(everyone);
    expect(await stats('voice')).toEqual(everyone);

    // A's voice channel unavailable, C's voice capacity 0: both drop out of the voice counts only.
    await ws.workers(w[0]!.sid).workerChannels('voice').update({ available: false });
    const cVoice = await ws.workers(w[2]!.sid).workerChannels('voice').fetch();
    await ws.workers(w[2]!.sid).workerChannels(cVoice.sid).update({ capacity: 0 });
    expect(await stats('voice')).toEqual({ total: 2, Offline: 1, Available: 1, Unavailable: 0 });
    expect(await stats()).toEqual(everyone);
    expect(await stats('sms')).toEqual(everyone);

    // The channel may be named by its SID too.
    const voice = (await ws.taskChannels('voice').fetch()).sid;
    expect(await stats(voice)).toEqual({ total: 2, Offline: 1, Available: 1, Unavailable: 0 });

    // Both ways back, and a capacity above 1 counts once.
    await ws.workers(w[0]!.sid).workerChannels('voice').update({ available: true, capacity: 3 });
    await ws.workers(w[2]!.sid).workerChannels('voice').update({ capacity: 1 });
    expect(await stats('voice')).toEqual(everyone);

    // Moving a worker moves it in the channel counts as well.
    await ws.workers(w[3]!.sid).update({ activitySid: activity.Available });
    expect(await stats('voice')).toEqual({ total: 4, Offline: 0, Available: 3, Unavailable: 1 });

    // A new channel starts available with capacity 1 for everyone.
    await ws.taskChannels.create({ friendlyName: 'Email', uniqueName: 'email' });
    expect(await stats('email')).toEqual({ total: 4, Offline: 0, Available: 3, Unavailable: 1 });
  });

  it('answers an unknown TaskChannel and an unknown workspace with 404 / 20404', async () => {
    const { ws } = await setUp('Unknown channel');
    await expectRestException(
      ws.workers.realTimeStatistics().fetch({ taskChannel: 'carrier-pigeon' }),
      404,
      20404,
    );
    await expectRestException(
      ws.workers.realTimeStatistics().fetch({ taskChannel: 'TC' + '0'.repeat(32) }),
      404,
      20404,
    );
    await expectRestException(
      s.taskrouter
        .workspaces('WS' + '0'.repeat(32))
        .workers.realTimeStatistics()
        .fetch(),
      404,
      20404,
    );
  });
});
