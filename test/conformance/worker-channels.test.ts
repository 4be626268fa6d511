import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
let workerSid: string;
const worker = (sid = workerSid) => s.taskrouter.workspaces(wsSid).workers(sid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Worker channels' })).sid;
  workerSid = (await s.taskrouter.workspaces(wsSid).workers.create({ friendlyName: 'Agent' })).sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('Worker channels through the twilio SDK', () => {
  it('lists one channel per task channel: capacity 1, available', async () => {
    const taskChannels = await s.taskrouter.workspaces(wsSid).taskChannels.list();
    const channels = await worker().workerChannels.list();
    expect(channels.map((c) => [c.taskChannelUniqueName, c.taskChannelSid])).toEqual(
      taskChannels.map((tc) => [tc.uniqueName, tc.sid]),
    );
    for (const c of channels) {
      expect(c.sid).toMatch(/^WC[0-9a-f]{32}$/);
      expect(c).toMatchObject({
        accountSid: s.account.sid,
        workspaceSid: wsSid,
        workerSid,
        configuredCapacity: 1,
        available: true,
        assignedTasks: 0,
        availableCapacityPercentage: 100,
        url: `${s.url}/v1/Workspaces/${wsSid}/Workers/${workerSid}/Channels/${c.sid}`,
      });
    }
    const paged = await worker().workerChannels.list({ pageSize: 2 });
    expect(paged.map((c) => c.sid)).toEqual(channels.map((c) => c.sid));
    expect(await worker().workerChannels.list({ limit: 2 })).toHaveLength(2);
  });

  it('fetches a channel by its WC SID and by the task channel unique name', async () => {
    const voice = (await worker().workerChannels.list()).find((c) => c.taskChannelUniqueName === 'voice')!;
    const bySid = await worker().workerChannels(voice.sid).fetch();
    expect(bySid.toJSON()).toEqual(voice.toJSON());
    const byName = await worker().workerChannels('voice').fetch();
    expect(byName.toJSON()).toEqual(voice.toJSON());
  });

  it('updates capacity and availability, by SID and by unique name', async () => {
    const sms = await worker().workerChannels('sms').fetch();
    const bigger = await worker().workerChannels(sms.sid).update({ capacity: 5 });
    expect(bigger).toMatchObject({ sid: sms.sid, configuredCapacity: 5, available: true });

    const off = await worker().workerChannels('sms').update({ available: false });
    expect(off).toMatchObject({ sid: sms.sid, configuredCapacity: 5, available: false });

    const both = await worker().workerChannels('sms').update({ capacity: 0, available: true });
    expect(both).toMatchObject({ configuredCapacity: 0, available: true });
    expect(await worker().workerChannels(sms.sid).fetch()).toMatchObject({
      configuredCapacity: 0,
      available: true,
    });

    // The other channels are untouched.
    expect(await worker().workerChannels('voice').fetch()).toMatchObject({
      configuredCapacity: 1,
      available: true,
    });
  });

  it('refuses bad capacity values with 400 / 20001', async () => {
    const message = await expectRestException(
      worker().workerChannels('chat').update({ capacity: -1 }),
      400,
      20001,
    );
    expect(message).toContain('Capacity');
    expect((await worker().workerChannels('chat').fetch()).configuredCapacity).toBe(1);
  });

  it("holds capacity to Twilio's 50 by default, with a message naming the limit", async () => {
    expect((await worker().workerChannels('chat').update({ capacity: 50 })).configuredCapacity).toBe(50);
    const message = await expectRestException(
      worker().workerChannels('chat').update({ capacity: 51 }),
      400,
      20001,
    );
    expect(message).toMatch(/Capacity.*at most 50/);
    expect((await worker().workerChannels('chat').update({ capacity: 1 })).configuredCapacity).toBe(1);
  });

  it('answers unknown channels and workers with 404 / 20404', async () => {
    await expectRestException(
      worker()
        .workerChannels('WC' + '0'.repeat(32))
        .fetch(),
      404,
      20404,
    );
    await expectRestException(worker().workerChannels('carrier-pigeon').fetch(), 404, 20404);
    await expectRestException(worker().workerChannels('carrier-pigeon').update({ capacity: 2 }), 404, 20404);
    await expectRestException(worker('WK' + '0'.repeat(32)).workerChannels.list(), 404, 20404);
    await expectRestException(
      worker('WK' + '0'.repeat(32))
        .workerChannels('voice')
        .fetch(),
      404,
      20404,
    );
  });
});
