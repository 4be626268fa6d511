import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskChannelInstance } from 'twilio/lib/rest/taskrouter/v1/workspace/taskChannel.js';
import { eachItem, expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
const ws = () => s.taskrouter.workspaces(wsSid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Task channels' })).sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('TaskChannels through the twilio SDK', () => {
  it('lists the default channels', async () => {
    const channels = await ws().taskChannels.list();
    expect(channels.map((c) => [c.uniqueName, c.friendlyName.length > 0])).toEqual([
      ['default', true],
      ['voice', true],
      ['sms', true],
      ['video', true],
      ['chat', true],
    ]);
    for (const c of channels) {
      expect(c.sid).toMatch(/^TC[0-9a-f]{32}$/);
      expect(c).toMatchObject({ accountSid: s.account.sid, workspaceSid: wsSid });
    }
  });

  it('creates, fetches, updates and removes a channel by SID', async () => {
    const created = await ws().taskChannels.create({
      friendlyName: 'Email',
      uniqueName: 'email',
      channelOptimizedRouting: true,
    });
    expect(created).toMatchObject({
      friendlyName: 'Email',
      uniqueName: 'email',
      channelOptimizedRouting: true,
      workspaceSid: wsSid,
      url: `${s.url}/v1/Workspaces/${wsSid}/TaskChannels/${created.sid}`,
    });
    expect((await ws().taskChannels(created.sid).fetch()).toJSON()).toEqual(created.toJSON());

    const updated = await ws()
      .taskChannels(created.sid)
      .update({ friendlyName: 'E-mail', channelOptimizedRouting: false });
    expect(updated).toMatchObject({
      sid: created.sid,
      friendlyName: 'E-mail',
      uniqueName: 'email',
      channelOptimizedRouting: false,
    });

    expect(await ws().taskChannels(created.sid).remove()).toBe(true);
    await expectRestException(ws().taskChannels(created.sid).fetch(), 404, 20404);
    expect((await ws().taskChannels.list()).map((c) => c.uniqueName)).not.toContain('email');
  });

  it('fetches, updates and removes a channel by unique_name', async () => {
    const created = await ws().taskChannels.create({ friendlyName: 'Fax', uniqueName: 'fax' });
    const worker = await ws().workers.create({ friendlyName: 'Fax operator' });
    expect((await ws().workers(worker.sid).workerChannels('fax').fetch()).taskChannelSid).toBe(created.sid);
    const fetched = await ws().taskChannels('fax').fetch();
    expect(fetched.sid).toBe(created.sid);

    const updated = await ws().taskChannels('fax').update({ friendlyName: 'Facsimile' });
    expect(updated).toMatchObject({ sid: created.sid, friendlyName: 'Facsimile', uniqueName: 'fax' });
    expect((await ws().taskChannels(created.sid).fetch()).friendlyName).toBe('Facsimile');

    expect(await ws().taskChannels('fax').remove()).toBe(true);
    await expectRestException(ws().taskChannels('fax').fetch(), 404, 20404);
    await expectRestException(ws().taskChannels(created.sid).fetch(), 404, 20404);
    // The workers' channels for it went with it.
    await expectRestException(ws().workers(worker.sid).workerChannels('fax').fetch(), 404, 20404);
    const left = await ws().workers(worker.sid).workerChannels.list();
    expect(left.map((c) => c.taskChannelUniqueName)).not.toContain('fax');
  });

  it('gives existing workers a channel for a new task channel', async () => {
    const worker = await ws().workers.create({ friendlyName: 'Channel watcher' });
    const channel = await ws().taskChannels.create({ friendlyName: 'Social', uniqueName: 'social' });
    const wc = await ws().workers(worker.sid).workerChannels('social').fetch();
    expect(wc).toMatchObject({
      taskChannelSid: channel.sid,
      taskChannelUniqueName: 'social',
      configuredCapacity: 1,
      available: true,
      workerSid: worker.sid,
    });
  });

  it('pages through channels with the SDK', async () => {
    const all = await ws().taskChannels.list();
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen = await eachItem<TaskChannelInstance>((o) => ws().taskChannels.each({ pageSize: 2, ...o }));
    expect(seen.map((c) => c.sid)).toEqual(all.map((c) => c.sid));
    expect((await ws().taskChannels.list({ limit: 3 })).map((c) => c.sid)).toEqual(
      all.slice(0, 3).map((c) => c.sid),
    );
  });

  it('refuses a duplicate or malformed unique name, and unknown channels', async () => {
    await expectRestException(
      ws().taskChannels.create({ friendlyName: 'Voice 2', uniqueName: 'voice' }),
      400,
      20001,
    );
    const message = await expectRestException(
      ws().taskChannels.create({ friendlyName: 'Spaces', uniqueName: 'has spaces' }),
      400,
      20001,
    );
    expect(message).toContain('UniqueName');
    await expectRestException(ws().taskChannels('no-such-channel').fetch(), 404, 20404);
    await expectRestException(
      ws()
        .taskChannels('TC' + '0'.repeat(32))
        .remove(),
      404,
      20404,
    );
  });
});
