import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eachItem, expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
let available: string;
const ws = () => s.taskrouter.workspaces(wsSid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'TaskQueues' })).sid;
  available = (await ws().activities.list({ friendlyName: 'Available' }))[0]!.sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('TaskQueues through the twilio SDK', () => {
  it('creates, fetches, updates and removes a queue', async () => {
    const created = await ws().taskQueues.create({
      friendlyName: 'Support',
      targetWorkers: "skills HAS 'support'",
      maxReservedWorkers: 3,
      taskOrder: 'LIFO',
      reservationActivitySid: available,
      assignmentActivitySid: available,
    });
    expect(created.sid).toMatch(/^WQ[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      friendlyName: 'Support',
      targetWorkers: "skills HAS 'support'",
      maxReservedWorkers: 3,
      taskOrder: 'LIFO',
      reservationActivitySid: available,
      reservationActivityName: 'Available',
      assignmentActivitySid: available,
      assignmentActivityName: 'Available',
      url: `${s.url}/v1/Workspaces/${wsSid}/TaskQueues/${created.sid}`,
    });
    expect((await ws().taskQueues(created.sid).fetch()).toJSON()).toEqual(created.toJSON());

    const updated = await ws().taskQueues(created.sid).update({
      friendlyName: 'Support EN',
      targetWorkers: '1==1',
      maxReservedWorkers: 1,
      taskOrder: 'FIFO',
    });
    expect(updated).toMatchObject({
      friendlyName: 'Support EN',
      targetWorkers: '1==1',
      maxReservedWorkers: 1,
      taskOrder: 'FIFO',
    });

    expect(await ws().taskQueues(created.sid).remove()).toBe(true);
    await expectRestException(ws().taskQueues(created.sid).fetch(), 404, 20404);
  });

  it('refuses a malformed TargetWorkers and a duplicate name with a RestException 400', async () => {
    const message = await expectRestException(
      ws().taskQueues.create({ friendlyName: 'Broken', targetWorkers: 'skills HAS' }),
      400,
      20001,
    );
    expect(message).toMatch(/TargetWorkers expression at \d+/);
    await ws().taskQueues.create({ friendlyName: 'Once' });
    await expectRestException(ws().taskQueues.create({ friendlyName: 'Once' }), 400, 20001);
  });

  it('lists with filters, through list, each and page', async () => {
    for (const [name, expr] of [
      ['Spanish', "languages HAS 'es'"],
      ['French', "languages HAS 'fr'"],
      ['Everyone', '1==1'],
    ]) {
      await ws().taskQueues.create({ friendlyName: name!, targetWorkers: expr! });
    }
    const worker = await ws().workers.create({ friendlyName: 'Ana', attributes: '{"languages":["es"]}' });

    const all = (await ws().taskQueues.list()).map((q) => q.friendlyName);
    expect(all).toEqual(expect.arrayContaining(['Spanish', 'French', 'Everyone']));
    const each = await eachItem<{ friendlyName: string }>((h) => ws().taskQueues.each({ pageSize: 2, ...h }));
    expect(each.map((q) => q.friendlyName)).toEqual(all);
    const first = await ws().taskQueues.page({ pageSize: 1 });
    expect(first.instances).toHaveLength(1);
    expect((await first.nextPage())?.instances[0]?.friendlyName).toBe(all[1]);

    expect((await ws().taskQueues.list({ friendlyName: 'French' })).map((q) => q.friendlyName)).toEqual([
      'French',
    ]);
    const ofWorker = (await ws().taskQueues.list({ workerSid: worker.sid })).map((q) => q.friendlyName);
    expect(ofWorker).toEqual(expect.arrayContaining(['Spanish', 'Everyone']));
    expect(ofWorker).not.toContain('French');
    const evaluated = (
      await ws().taskQueues.list({
        evaluateWorkerAttributes: '{"languages":["fr"]}',
        ordering: 'DateCreated:asc',
      })
    ).map((q) => q.friendlyName);
    expect(evaluated).toContain('French');
    expect(evaluated).not.toContain('Spanish');
    // Newest first, followed page by page as the SDK does.
    const newestFirst = await eachItem<{ friendlyName: string }>((h) =>
      ws().taskQueues.each({ ordering: 'DateCreated:desc', pageSize: 2, ...h }),
    );
    expect(newestFirst.map((q) => q.friendlyName)).toEqual([...all].reverse());
    const byUpdate = await ws().taskQueues.list({ ordering: 'DateUpdated:asc', pageSize: 2 });
    expect(byUpdate.map((q) => q.friendlyName).sort()).toEqual([...all].sort());
  });

  it('lists workers by TargetWorkersExpression, TaskQueueSid and TaskQueueName through list, each and page', async () => {
    const queue = await ws().taskQueues.create({ friendlyName: 'Seniors', targetWorkers: 'level >= 3' });
    for (let i = 0; i < 5; i++) {
      await ws().workers.create({
        friendlyName: `Senior ${i}`,
        attributes: JSON.stringify({ level: 3 + i }),
      });
      await ws().workers.create({
        friendlyName: `Junior ${i}`,
        attributes: JSON.stringify({ level: i % 3 }),
      });
    }
    const seniors = ['Senior 0', 'Senior 1', 'Senior 2', 'Senior 3', 'Senior 4'];
    const names = (ws: { friendlyName: string }[]) => ws.map((w) => w.friendlyName);
    expect(names(await ws().workers.list({ targetWorkersExpression: 'level >= 3' }))).toEqual(seniors);
    expect(names(await ws().workers.list({ taskQueueSid: queue.sid }))).toEqual(seniors);
    expect(names(await ws().workers.list({ taskQueueName: 'Seniors' }))).toEqual(seniors);
    const each = await eachItem<{ friendlyName: string }>((h) =>
      ws().workers.each({
        targetWorkersExpression: "level >= 3 AND friendly_name CONTAINS 'Senior'",
        pageSize: 2,
        ...h,
      }),
    );
    expect(names(each)).toEqual(seniors);
    const page = await ws().workers.page({ taskQueueSid: queue.sid, pageSize: 3 });
    expect(names(page.instances)).toEqual(seniors.slice(0, 3));
    expect(names((await page.nextPage())!.instances)).toEqual(seniors.slice(3));
    const asc = names(
      await ws().workers.list({ taskQueueSid: queue.sid, ordering: 'DateStatusChanged:asc' }),
    );
    expect([...asc].sort()).toEqual(seniors);
    const desc = await eachItem<{ friendlyName: string }>((h) =>
      ws().workers.each({ taskQueueSid: queue.sid, ordering: 'DateStatusChanged:desc', pageSize: 2, ...h }),
    );
    expect(names(desc)).toEqual([...asc].reverse());
    await expectRestException(ws().workers.list({ targetWorkersExpression: 'level >=' }), 400, 20001);
  });
});
