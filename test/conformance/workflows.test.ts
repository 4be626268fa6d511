import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eachItem, expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
let queueSid: string;
const ws = () => s.taskrouter.workspaces(wsSid);
const routing = (queue: string) =>
  JSON.stringify({
    task_routing: {
      filters: [
        { filter_friendly_name: 'VIP', expression: 'vip == true', targets: [{ queue, priority: 5 }] },
      ],
      default_filter: { queue },
    },
  });

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Workflows' })).sid;
  queueSid = (await ws().taskQueues.create({ friendlyName: 'Everyone' })).sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('Workflows through the twilio SDK', () => {
  it('creates, fetches, updates and removes a workflow', async () => {
    const created = await ws().workflows.create({
      friendlyName: 'Support',
      configuration: routing(queueSid),
      assignmentCallbackUrl: 'https://example.com/assignment',
      taskReservationTimeout: 300,
    });
    expect(created.sid).toMatch(/^WW[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      friendlyName: 'Support',
      configuration: routing(queueSid),
      assignmentCallbackUrl: 'https://example.com/assignment',
      fallbackAssignmentCallbackUrl: null,
      taskReservationTimeout: 300,
      documentContentType: 'application/json',
      url: `${s.url}/v1/Workspaces/${wsSid}/Workflows/${created.sid}`,
    });
    expect((await ws().workflows(created.sid).fetch()).toJSON()).toEqual(created.toJSON());

    const updated = await ws()
      .workflows(created.sid)
      .update({ friendlyName: 'Support 2', taskReservationTimeout: 1, reEvaluateTasks: 'true' });
    expect(updated).toMatchObject({
      friendlyName: 'Support 2',
      taskReservationTimeout: 1,
      configuration: routing(queueSid),
    });

    expect(await ws().workflows(created.sid).remove()).toBe(true);
    await expectRestException(ws().workflows(created.sid).fetch(), 404, 20404);
  });

  it('lists workflows through list, each and page, filtered by FriendlyName', async () => {
    for (const name of ['A', 'B', 'C'])
      await ws().workflows.create({ friendlyName: name, configuration: routing(queueSid) });
    expect((await ws().workflows.list()).map((f) => f.friendlyName)).toEqual(['A', 'B', 'C']);
    const each = await eachItem<{ friendlyName: string }>((h) => ws().workflows.each({ pageSize: 2, ...h }));
    expect(each.map((f) => f.friendlyName)).toEqual(['A', 'B', 'C']);
    const page = await ws().workflows.page({ pageSize: 2 });
    expect((await page.nextPage())?.instances.map((f) => f.friendlyName)).toEqual(['C']);
    expect((await ws().workflows.list({ friendlyName: 'B' })).map((f) => f.friendlyName)).toEqual(['B']);
  });

  it('refuses a configuration naming a missing queue, and deleting a queue in use', async () => {
    const message = await expectRestException(
      ws().workflows.create({ friendlyName: 'Broken', configuration: routing('WQ' + 'f'.repeat(32)) }),
      400,
      20001,
    );
    expect(message).toMatch(/task_routing\.filters\[0\]\.targets\[0\]\.queue/);
    const inUse = await expectRestException(ws().taskQueues(queueSid).remove(), 400, 20001);
    expect(inUse).toMatch(/Workflow WW[0-9a-f]{32}/);
  });
});
