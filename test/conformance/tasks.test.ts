import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eachItem, expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
let queueSid: string;
let workflowSid: string;
let available: string;
let offline: string;
const ws = () => s.taskrouter.workspaces(wsSid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Tasks' })).sid;
  const activities = await ws().activities.list();
  available = activities.find((a) => a.friendlyName === 'Available')!.sid;
  offline = activities.find((a) => a.friendlyName === 'Offline')!.sid;
  queueSid = (
    await ws().taskQueues.create({ friendlyName: 'Support', targetWorkers: 'skills HAS "support"' })
  ).sid;
  workflowSid = (
    await ws().workflows.create({
      friendlyName: 'Inbound',
      configuration: JSON.stringify({
        task_routing: {
          filters: [
            {
              filter_friendly_name: 'Support',
              expression: 'type == "support"',
              targets: [{ queue: queueSid }],
            },
          ],
        },
      }),
    })
  ).sid;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

describe('Tasks and Reservations through the twilio SDK', () => {
  it('creates, fetches, updates, lists and removes tasks', async () => {
    const task = await ws().tasks.create({ attributes: '{"type":"none"}', priority: 2, timeout: 600 });
    expect(task.sid).toMatch(/^WT[0-9a-f]{32}$/);
    expect(task).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      workflowSid,
      workflowFriendlyName: 'Inbound',
      assignmentStatus: 'pending',
      priority: 2,
      timeout: 600,
      taskQueueSid: null,
      taskChannelUniqueName: 'default',
      attributes: '{"type":"none"}',
      reason: null,
      url: `${s.url}/v1/Workspaces/${wsSid}/Tasks/${task.sid}`,
    });
    expect(task.dateCreated).toBeInstanceOf(Date);
    const fetched = await ws().tasks(task.sid).fetchWithHttpInfo();
    expect(fetched.body.sid).toBe(task.sid);
    const etag = fetched.headers.etag!;
    expect(etag).toMatch(/^"\d+"$/);

    const updated = await ws()
      .tasks(task.sid)
      .update({ attributes: '{"type":"other"}', priority: 7, ifMatch: etag });
    expect(updated).toMatchObject({ attributes: '{"type":"other"}', priority: 7 });
    await expectRestException(ws().tasks(task.sid).update({ priority: 1, ifMatch: etag }), 412, 20412);

    const listed = await ws().tasks.list({ assignmentStatus: ['pending'], ordering: 'Priority:desc' });
    expect(listed.map((t) => t.sid)).toContain(task.sid);
    const paged = await eachItem<{ sid: string }>((o) => ws().tasks.each({ pageSize: 1, ...o }));
    expect(paged.map((t) => t.sid)).toContain(task.sid);

    const canceled = await ws().tasks(task.sid).update({ assignmentStatus: 'canceled', reason: 'test' });
    expect(canceled).toMatchObject({ assignmentStatus: 'canceled', reason: 'test' });
    expect(await ws().tasks(task.sid).remove()).toBe(true);
    await expectRestException(ws().tasks(task.sid).fetch(), 404, 20404);
  });

  it('refuses bad task input with 400', async () => {
    await expectRestException(ws().tasks.create({ attributes: 'not json' }), 400, 20001);
    await expectRestException(ws().tasks.create({ timeout: 0 }), 400, 20001);
    await expectRestException(ws().tasks.create({ taskChannel: 'nope' }), 400, 20001);
    await expectRestException(ws().tasks.create({ workflowSid: 'WW' + '0'.repeat(32) }), 400, 20001);
  });

  it('offers a task to a worker; the worker accepts it and completes it, through both views', async () => {
    const worker = await ws().workers.create({
      friendlyName: 'Ann',
      activitySid: available,
      attributes: '{"skills":["support"]}',
    });
    const task = await ws().tasks.create({ attributes: '{"type":"support"}', workflowSid });
    expect(task).toMatchObject({
      assignmentStatus: 'reserved',
      taskQueueSid: queueSid,
      taskQueueFriendlyName: 'Support',
    });

    const [viaTask] = await ws().tasks(task.sid).reservations.list();
    expect(viaTask).toMatchObject({
      taskSid: task.sid,
      workerSid: worker.sid,
      workerName: 'Ann',
      reservationStatus: 'pending',
    });
    const viaWorker = await ws().workers(worker.sid).reservations(viaTask!.sid).fetch();
    expect(viaWorker.sid).toBe(viaTask!.sid);
    expect(viaWorker.url).toBe(
      `${s.url}/v1/Workspaces/${wsSid}/Workers/${worker.sid}/Reservations/${viaTask!.sid}`,
    );
    expect((await ws().workers(worker.sid).reservations.list({ reservationStatus: 'pending' })).length).toBe(
      1,
    );

    const accepted = await ws()
      .tasks(task.sid)
      .reservations(viaTask!.sid)
      .update({ reservationStatus: 'accepted', workerActivitySid: available });
    expect(accepted.reservationStatus).toBe('accepted');
    expect((await ws().tasks(task.sid).fetch()).assignmentStatus).toBe('assigned');
    const [channel] = await ws().workers(worker.sid).workerChannels.list();
    expect(channel).toMatchObject({ assignedTasks: 1, availableCapacityPercentage: 0 });

    const wrapping = await ws()
      .workers(worker.sid)
      .reservations(viaTask!.sid)
      .update({ reservationStatus: 'wrapping' });
    expect(wrapping.reservationStatus).toBe('wrapping');
    const completed = await ws()
      .workers(worker.sid)
      .reservations(viaTask!.sid)
      .update({ reservationStatus: 'completed' });
    expect(completed.reservationStatus).toBe('completed');
    expect((await ws().tasks(task.sid).fetch()).assignmentStatus).toBe('completed');
    await expectRestException(
      ws().tasks(task.sid).reservations(viaTask!.sid).update({ reservationStatus: 'accepted' }),
      400,
      20001,
    );
    await ws().workers(worker.sid).update({ activitySid: offline });
  });

  it('records a dequeue instruction (accepting) and rejects pending reservations on worker update', async () => {
    const worker = await ws().workers.create({
      friendlyName: 'Bo',
      activitySid: available,
      attributes: '{"skills":["support"]}',
    });
    const first = await ws().tasks.create({ attributes: '{"type":"support"}' });
    const [r] = await ws().tasks(first.sid).reservations.list();
    const dequeued = await ws()
      .tasks(first.sid)
      .reservations(r!.sid)
      .update({ instruction: 'dequeue', dequeueFrom: '+15550100', dequeuePostWorkActivitySid: available });
    expect(dequeued.reservationStatus).toBe('accepted');
    await ws().tasks(first.sid).update({ assignmentStatus: 'completed', reason: 'done' });

    const second = await ws().tasks.create({ attributes: '{"type":"support"}' });
    const [pending] = await ws().workers(worker.sid).reservations.list({ reservationStatus: 'pending' });
    expect(pending!.taskSid).toBe(second.sid);
    await ws().workers(worker.sid).update({ activitySid: offline, rejectPendingReservations: true });
    expect((await ws().workers(worker.sid).reservations(pending!.sid).fetch()).reservationStatus).toBe(
      'rejected',
    );
    expect((await ws().tasks(second.sid).fetch()).assignmentStatus).toBe('pending');
    await expectRestException(
      ws()
        .workers(worker.sid)
        .reservations('WR' + '0'.repeat(32))
        .fetch(),
      404,
      20404,
    );
  });
});
