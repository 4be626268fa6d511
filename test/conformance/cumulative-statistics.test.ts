import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

/** A workspace where one task was created, accepted by ann and completed, and another canceled. */
async function setUp(name: string) {
  const wsSid = (await s.taskrouter.workspaces.create({ friendlyName: name })).sid;
  const ws = s.taskrouter.workspaces(wsSid);
  const activity = Object.fromEntries((await ws.activities.list()).map((a) => [a.friendlyName, a.sid]));
  const queue = await ws.taskQueues.create({ friendlyName: 'All', targetWorkers: '1==1' });
  const workflow = await ws.workflows.create({
    friendlyName: 'Main',
    configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queue.sid } } }),
  });
  const ann = await ws.workers.create({ friendlyName: 'ann', activitySid: activity.Available });
  const done = await ws.tasks.create({ workflowSid: workflow.sid, attributes: '{}' });
  const [reservation] = await ws.tasks(done.sid).reservations.list();
  await ws.tasks(done.sid).reservations(reservation!.sid).update({ reservationStatus: 'accepted' });
  await ws.tasks(done.sid).update({ assignmentStatus: 'completed', reason: 'done' });
  const dropped = await ws.tasks.create({ workflowSid: workflow.sid, attributes: '{}' });
  await ws.tasks(dropped.sid).update({ assignmentStatus: 'canceled', reason: 'gone' });
  return { wsSid, ws, queue, workflow, ann, activity };
}

describe('cumulative statistics through the twilio SDK', () => {
  it('Workspace, TaskQueue and Workflow CumulativeStatistics', async () => {
    const { wsSid, ws, queue, workflow } = await setUp('Cumulative');
    const all = await ws.cumulativeStatistics().fetch({ minutes: 60, splitByWaitTime: '5,60' });
    expect(all).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      tasksCreated: 2,
      tasksCompleted: 1,
      tasksCanceled: 1,
      reservationsCreated: 2,
      reservationsAccepted: 1,
      reservationsCanceled: 1,
      url: `${s.url}/v1/Workspaces/${wsSid}/CumulativeStatistics`,
    });
    expect(all.startTime).toBeInstanceOf(Date);
    expect(all.endTime.getTime() - all.startTime.getTime()).toBe(60 * 60_000);
    expect(Object.keys(all.splitByWaitTime as object)).toEqual(['5', '60']);
    expect(all.waitDurationUntilAccepted).toMatchObject({
      min: expect.any(Number),
      total: expect.any(Number),
    });

    const inQueue = await ws.taskQueues(queue.sid).cumulativeStatistics().fetch();
    expect(inQueue).toMatchObject({ taskQueueSid: queue.sid, tasksEntered: 2, tasksCompleted: 1 });
    expect(inQueue.waitDurationInQueueUntilAccepted).toMatchObject({ avg: expect.any(Number) });
    expect(inQueue.splitByWaitTime).toBeNull();

    const inWorkflow = await ws
      .workflows(workflow.sid)
      .cumulativeStatistics()
      .fetch({ taskChannel: 'default' });
    expect(inWorkflow).toMatchObject({ workflowSid: workflow.sid, tasksEntered: 2, tasksCanceled: 1 });

    await expectRestException(ws.cumulativeStatistics().fetch({ splitByWaitTime: 'soon' }), 400, 20001);
    await expectRestException(
      ws
        .taskQueues('WQ' + '0'.repeat(32))
        .cumulativeStatistics()
        .fetch(),
      404,
      20404,
    );
  });

  it('Workers CumulativeStatistics and Statistics, and a worker’s Statistics', async () => {
    const { wsSid, ws, ann, activity, queue } = await setUp('Workers cumulative');
    const cumulative = await ws.workers.cumulativeStatistics().fetch({ minutes: 30 });
    expect(cumulative).toMatchObject({
      workspaceSid: wsSid,
      reservationsCreated: 2,
      reservationsAccepted: 1,
    });
    const names = (cumulative.activityDurations as { friendly_name: string }[]).map((d) => d.friendly_name);
    expect(names.sort()).toEqual(Object.keys(activity).sort());

    const stats = await ws.workers.statistics().fetch({ minutes: 30 });
    expect(stats.realtime).toMatchObject({ total_workers: 1 });
    expect(stats.cumulative).toMatchObject({ reservations_accepted: 1 });
    const ofQueue = await ws.workers.statistics().fetch({ taskQueueSid: queue.sid });
    expect(ofQueue.realtime).toMatchObject({ total_workers: 1 });
    const named = await ws.workers.statistics().fetch({ friendlyName: 'nobody' });
    expect(named.realtime).toMatchObject({ total_workers: 0 });

    const mine = await ws.workers(ann.sid).statistics().fetch({ minutes: 30 });
    expect(mine).toMatchObject({ workerSid: ann.sid, workspaceSid: wsSid });
    expect(mine.cumulative).toMatchObject({ reservations_created: 2, reservations_accepted: 1 });
    await expectRestException(
      ws
        .workers('WK' + '0'.repeat(32))
        .statistics()
        .fetch(),
      404,
      20404,
    );
  });
});
