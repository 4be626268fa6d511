import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: string;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Channels' } })).json()
    .sid;
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws}/TaskChannels${path}`;

describe('TaskChannels', () => {
  it('creates and fetches by SID and by unique name', async () => {
    const res = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'Email', UniqueName: 'email', ChannelOptimizedRouting: 'true' },
    });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expectMatchesSpec('CreateTaskChannel', 201, c);
    expect(c).toMatchObject({
      friendly_name: 'Email',
      unique_name: 'email',
      channel_optimized_routing: true,
    });
    const bySid = await t.request({ url: url(`/${c.sid}`) });
    expectMatchesSpec('FetchTaskChannel', 200, bySid.json());
    expect(bySid.json()).toEqual(c);
    expect((await t.request({ url: url('/email') })).json()).toEqual(c);
  });

  it('updates and deletes by unique name', async () => {
    const updated = await t.request({
      method: 'POST',
      url: url('/email'),
      form: { FriendlyName: 'E-mail', ChannelOptimizedRouting: 'false' },
    });
    expect(updated.statusCode).toBe(200);
    expectMatchesSpec('UpdateTaskChannel', 200, updated.json());
    expect(updated.json()).toMatchObject({ friendly_name: 'E-mail', channel_optimized_routing: false });
    expect((await t.request({ method: 'DELETE', url: url('/email') })).statusCode).toBe(204);
    expect((await t.request({ url: url('/email') })).statusCode).toBe(404);
  });

  it('gives existing workers a channel for a new task channel, and removes it with the channel', async () => {
    const w = (
      await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: 'a' } })
    ).json();
    await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Fax', UniqueName: 'fax' } });
    const fax = await t.request({ url: `/v1/Workspaces/${ws}/Workers/${w.sid}/Channels/fax` });
    expect(fax.statusCode).toBe(200);
    expect(fax.json()).toMatchObject({ configured_capacity: 1, available: true });
    await t.request({ method: 'DELETE', url: url('/fax') });
    expect((await t.request({ url: `/v1/Workspaces/${ws}/Workers/${w.sid}/Channels/fax` })).statusCode).toBe(
      404,
    );
    const list = (await t.request({ url: `/v1/Workspaces/${ws}/Workers/${w.sid}/Channels` })).json();
    expect(list.channels).toHaveLength(5);
  });

  it('lists under the key "channels"', async () => {
    const res = (await t.request({ url: url('?PageSize=2') })).json();
    expectMatchesSpec('ListTaskChannel', 200, res);
    expect(res.meta.key).toBe('channels');
    expect(res.channels).toHaveLength(2);
    expect(res.meta.next_page_url).toContain('PageToken=');
  });

  it('refuses duplicates and bad names', async () => {
    const dup = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'Voice 2', UniqueName: 'voice' },
    });
    expect(dup.statusCode).toBe(400);
    expectTwilioError(dup.json(), 400, 20001);
    for (const form of [
      { FriendlyName: 'x' },
      { UniqueName: 'x' },
      { FriendlyName: 'x', UniqueName: 'has space' },
      { FriendlyName: 'x', UniqueName: 'y'.repeat(65) },
    ]) {
      const res = await t.request({ method: 'POST', url: url(), form: form as Record<string, string> });
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
    }
    expect((await t.request({ url: url(`/${'z'.repeat(300)}`) })).statusCode).toBe(404);
  });

  it('refuses a unique name shaped like a TaskChannel or WorkerChannel SID, which would name another channel', async () => {
    const voice = (await t.request({ url: url('/voice') })).json();
    const before = (await t.request({ url: url('?PageSize=1000') })).json().channels;
    for (const UniqueName of [
      voice.sid,
      'TC' + 'ab'.repeat(16),
      'WC' + '0'.repeat(32),
      'TC' + 'AB'.repeat(16),
    ]) {
      const res = await t.request({
        method: 'POST',
        url: url(),
        form: { FriendlyName: 'Sneaky', UniqueName },
      });
      expect(res.statusCode, UniqueName).toBe(400);
      expectTwilioError(res.json(), 400, 20001);
      expect(res.json().message).toMatch(/UniqueName/);
    }
    expect((await t.request({ url: url('?PageSize=1000') })).json().channels).toEqual(before);
    // Names that only look a little like SIDs are fine.
    for (const UniqueName of ['TC' + '0'.repeat(31), 'tc' + '0'.repeat(32), 'TC' + 'g'.repeat(32)]) {
      const res = await t.request({
        method: 'POST',
        url: url(),
        form: { FriendlyName: UniqueName, UniqueName },
      });
      expect(res.statusCode, UniqueName).toBe(201);
      expect((await t.request({ method: 'DELETE', url: url(`/${UniqueName}`) })).statusCode).toBe(204);
    }
  });
});
