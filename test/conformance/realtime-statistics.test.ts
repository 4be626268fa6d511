import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

async function setUp(name: string) {
  const wsSid = (await s.taskrouter.workspaces.create({ friendlyName: name })).sid;
  const ws = s.taskrouter.workspaces(wsSid);
  const activity = Object.fromEntries((await ws.activities.list()).map((a) => [a.friendlyName, a.sid]));
  const queue = await ws.taskQueues.create({ friendlyName: 'All', targetWorkers: '1==1' });
  const other = await ws.taskQueues.create({ friendlyName: 'None', targetWorkers: '1==2' });
  const workflow = await ws.workflows.create({
    friendlyName: 'Main',
    configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queue.sid } } }),
  });
  return { wsSid, ws, activity, queue, other, workflow };
}

describe('Workspace, TaskQueue and Workflow RealTimeStatistics through the twilio SDK', () => {
  it('reads every real-time statistics resource, with and without TaskChannel', async () => {
    const { wsSid, ws, activity, queue, workflow } = await setUp('RT stats');
    await ws.workers.create({ friendlyName: 'ann', activitySid: activity.Unavailable });
    const task = await ws.tasks.create({ workflowSid: workflow.sid, priority: 3, taskChannel: 'voice' });

    const wst = await ws.realTimeStatistics().fetch();
    expect(wst).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      totalTasks: 1,
      totalWorkers: 1,
      longestTaskWaitingSid: task.sid,
      tasksByStatus: { pending: 1, reserved: 0, assigned: 0, wrapping: 0 },
      tasksByPriority: { '3': 1 },
      url: `${s.url}/v1/Workspaces/${wsSid}/RealTimeStatistics`,
    });
    expect(wst.activityStatistics).toHaveLength(3);
    expect((await ws.realTimeStatistics().fetch({ taskChannel: 'chat' })).totalTasks).toBe(0);

    const qt = await ws.taskQueues(queue.sid).realTimeStatistics().fetch({ taskChannel: 'voice' });
    expect(qt).toMatchObject({
      taskQueueSid: queue.sid,
      totalTasks: 1,
      totalEligibleWorkers: 1,
      totalAvailableWorkers: 0,
      longestTaskWaitingSid: task.sid,
      longestRelativeTaskSidInQueue: task.sid,
    });

    const ft = await ws.workflows(workflow.sid).realTimeStatistics().fetch();
    expect(ft).toMatchObject({ workflowSid: workflow.sid, totalTasks: 1, longestTaskWaitingSid: task.sid });
  });

  it('answers the bulk TaskQueues statistics for as many queues as asked', async () => {
    const { ws, queue, other } = await setUp('Bulk stats');
    const bulk = await ws.taskQueues.bulkRealTimeStatistics.create({ TaskQueueSids: [queue.sid, other.sid] });
    expect(bulk.taskQueueResponseCount).toBe(2);
    expect((bulk.taskQueueData as { task_queue_sid: string }[]).map((q) => q.task_queue_sid)).toEqual([
      queue.sid,
      other.sid,
    ]);
  });

  it('answers 404 for an unknown queue or workflow, as Twilio does', async () => {
    const { ws } = await setUp('Unknown RT');
    await expectRestException(
      ws
        .taskQueues(`WQ${'0'.repeat(32)}`)
        .realTimeStatistics()
        .fetch(),
      404,
      20404,
    );
    await expectRestException(
      ws
        .workflows(`WW${'0'.repeat(32)}`)
        .realTimeStatistics()
        .fetch(),
      404,
      20404,
    );
  });
});
