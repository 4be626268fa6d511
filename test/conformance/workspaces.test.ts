import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe('Workspaces through the twilio SDK', () => {
  it('creates a workspace with its default activities and task channels', async () => {
    const ws = await s.taskrouter.workspaces.create({
      friendlyName: 'Conformance',
      eventCallbackUrl: 'https://example.com/events',
      multiTaskEnabled: false,
      prioritizeQueueOrder: 'LIFO',
    });
    expect(ws.sid).toMatch(/^WS[0-9a-f]{32}$/);
    expect(ws).toMatchObject({
      accountSid: s.account.sid,
      friendlyName: 'Conformance',
      eventCallbackUrl: 'https://example.com/events',
      multiTaskEnabled: false,
      prioritizeQueueOrder: 'LIFO',
      defaultActivityName: 'Offline',
      timeoutActivityName: 'Offline',
      url: `${s.url}/v1/Workspaces/${ws.sid}`,
    });
    expect(ws.defaultActivitySid).toBe(ws.timeoutActivitySid);
    // The SDK turns dates into Date objects; the wire had whole seconds.
    expect(ws.dateCreated).toBeInstanceOf(Date);
    expect(ws.dateCreated.getUTCMilliseconds()).toBe(0);
    expect(ws.links.workers).toBe(`${ws.url}/Workers`);

    const activities = await s.taskrouter.workspaces(ws.sid).activities.list();
    expect(activities.map((a) => [a.friendlyName, a.available])).toEqual([
      ['Offline', false],
      ['Available', true],
      ['Unavailable', false],
    ]);
    expect(activities[0]!.sid).toBe(ws.defaultActivitySid);
    const channels = await s.taskrouter.workspaces(ws.sid).taskChannels.list();
    expect(channels.map((c) => c.uniqueName)).toEqual(['default', 'voice', 'sms', 'video', 'chat']);
  });

  it('fetches, updates and removes a workspace', async () => {
    const created = await s.taskrouter.workspaces.create({ friendlyName: 'Fetch me' });
    const fetched = await s.taskrouter.workspaces(created.sid).fetch();
    expect(fetched.toJSON()).toEqual(created.toJSON());

    const available = (
      await s.taskrouter.workspaces(created.sid).activities.list({ friendlyName: 'Available' })
    )[0]!;
    const updated = await s.taskrouter.workspaces(created.sid).update({
      friendlyName: 'Renamed',
      defaultActivitySid: available.sid,
      eventsFilter: 'worker.activity.update',
      multiTaskEnabled: false,
    });
    expect(updated).toMatchObject({
      sid: created.sid,
      friendlyName: 'Renamed',
      defaultActivitySid: available.sid,
      defaultActivityName: 'Available',
      timeoutActivitySid: created.timeoutActivitySid,
      timeoutActivityName: 'Offline',
      eventsFilter: 'worker.activity.update',
      multiTaskEnabled: false,
    });
    expect((await s.taskrouter.workspaces(created.sid).fetch()).friendlyName).toBe('Renamed');

    const worker = await s.taskrouter.workspaces(created.sid).workers.create({ friendlyName: 'Leaves too' });
    expect(await s.taskrouter.workspaces(created.sid).remove()).toBe(true);
    await expectRestException(s.taskrouter.workspaces(created.sid).fetch(), 404, 20404);
    await expectRestException(s.taskrouter.workspaces(created.sid).workers(worker.sid).fetch(), 404, 20404);
    await expectRestException(s.taskrouter.workspaces(created.sid).remove(), 404, 20404);
  });

  it('lists workspaces, filtered by FriendlyName', async () => {
    const a = await s.taskrouter.workspaces.create({ friendlyName: 'Filter Target' });
    const b = await s.taskrouter.workspaces.create({ friendlyName: 'Filter Other' });
    const all = await s.taskrouter.workspaces.list();
    expect(all.map((w) => w.sid)).toEqual(expect.arrayContaining([a.sid, b.sid]));
    const filtered = await s.taskrouter.workspaces.list({ friendlyName: 'Filter Target' });
    expect(filtered.map((w) => w.sid)).toEqual([a.sid]);
    expect(await s.taskrouter.workspaces.list({ friendlyName: 'Nobody has this name' })).toEqual([]);
  });

  it('refuses bad parameters with a 400 the SDK reports as a RestException', async () => {
    const message = await expectRestException(
      s.taskrouter.workspaces.create({ friendlyName: 'Bad', eventCallbackUrl: 'not a url' }),
      400,
      20001,
    );
    expect(message).toContain('EventCallbackUrl');
  });
});

describe('Errors through the twilio SDK', () => {
  it('answers wrong credentials with 401 / 20003', async () => {
    const wrongToken = s.clientFor(s.account.sid, 'f'.repeat(32));
    await expectRestException(wrongToken.taskrouter.v1.workspaces.list(), 401, 20003);
    const unknownAccount = s.clientFor('AC' + '0'.repeat(32), s.account.token);
    await expectRestException(
      unknownAccount.taskrouter.v1.workspaces.create({ friendlyName: 'x' }),
      401,
      20003,
    );
  });

  it('answers unknown and malformed SIDs with 404 / 20404', async () => {
    const unknown = 'WS' + '0'.repeat(32);
    const message = await expectRestException(s.taskrouter.workspaces(unknown).fetch(), 404, 20404);
    expect(message).toBe(`The requested resource /Workspaces/${unknown} was not found`);
    await expectRestException(s.taskrouter.workspaces('WSnotasid').fetch(), 404, 20404);
    await expectRestException(s.taskrouter.workspaces(unknown).update({ friendlyName: 'x' }), 404, 20404);
    await expectRestException(s.taskrouter.workspaces(unknown).workers.list(), 404, 20404);
    await expectRestException(
      s.taskrouter.workspaces(unknown).workers.realTimeStatistics().fetch(),
      404,
      20404,
    );
  });

  it("treats another account's workspace as not there", async () => {
    const ws = await s.taskrouter.workspaces.create({ friendlyName: 'Mine' });
    const other = { sid: 'AC' + 'a'.repeat(32), token: 'b'.repeat(32) };
    await s.services.accounts.ensure(other.sid, other.token);
    const theirs = s.clientFor(other.sid, other.token).taskrouter.v1;
    await expectRestException(theirs.workspaces(ws.sid).fetch(), 404, 20404);
    await expectRestException(theirs.workspaces(ws.sid).remove(), 404, 20404);
    expect(await theirs.workspaces.list()).toEqual([]);
    expect((await s.taskrouter.workspaces(ws.sid).fetch()).friendlyName).toBe('Mine');
  });

  it('sends the rate limit and CORS headers on every response', async () => {
    const ok = await s.taskrouter.workspaces.listWithHttpInfo();
    expect(ok.statusCode).toBe(200);
    expect(ok.headers).toMatchObject({ 'x-rate-limit-config': 'Read', 'access-control-allow-origin': '*' });
    // This server has no rate limit: no budget is shown, rather than one that reads as spent.
    expect(ok.headers['x-rate-limit-limit']).toBeUndefined();
    expect(ok.headers['x-rate-limit-remaining']).toBeUndefined();
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('dates on the wire are ISO 8601 UTC without milliseconds', async () => {
    const ws = await s.taskrouter.workspaces.create({ friendlyName: 'Dates' });
    const res = await fetch(ws.url, {
      headers: {
        authorization: 'Basic ' + Buffer.from(`${s.account.sid}:${s.account.token}`).toString('base64'),
      },
    });
    const body = (await res.json()) as { date_created: string; date_updated: string };
    expect(body.date_created).toMatch(ISO_SECONDS);
    expect(body.date_updated).toMatch(ISO_SECONDS);
  });
});
