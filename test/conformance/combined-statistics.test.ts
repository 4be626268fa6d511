import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

/** Two queues; one task accepted (and so assigned) in Support, one waiting in Sales, one canceled. */
async function setUp(name: string) {
  const wsSid = (await s.taskrouter.workspaces.create({ friendlyName: name })).sid;
  const ws = s.taskrouter.workspaces(wsSid);
  const activity = Object.fromEntries((await ws.activities.list()).map((a) => [a.friendlyName, a.sid]));
  const support = await ws.taskQueues.create({
    friendlyName: 'Support',
    targetWorkers: 'skill == "support"',
  });
  const sales = await ws.taskQueues.create({ friendlyName: 'Sales', targetWorkers: 'skill == "sales"' });
  const workflow = await ws.workflows.create({
    friendlyName: 'Main',
    configuration: JSON.stringify({
      task_routing: {
        filters: [
          { filter_friendly_name: 'sales', expression: 'type == "sales"', targets: [{ queue: sales.sid }] },
        ],
        default_filter: { queue: support.sid },
      },
    }),
  });
  await ws.workers.create({
    friendlyName: 'ann',
    activitySid: activity.Available,
    attributes: '{"skill":"support"}',
  });
  await ws.workers.create({
    friendlyName: 'bob',
    activitySid: activity.Offline,
    attributes: '{"skill":"sales"}',
  });
  const helped = await ws.tasks.create({ workflowSid: workflow.sid, attributes: '{"type":"support"}' });
  const [reservation] = await ws.tasks(helped.sid).reservations.list();
  await ws.tasks(helped.sid).reservations(reservation!.sid).update({ reservationStatus: 'accepted' });
  const waiting = await ws.tasks.create({ workflowSid: workflow.sid, attributes: '{"type":"sales"}' });
  const dropped = await ws.tasks.create({ workflowSid: workflow.sid, attributes: '{"type":"sales"}' });
  await ws.tasks(dropped.sid).update({ assignmentStatus: 'canceled', reason: 'gone' });
  return { wsSid, ws, support, sales, workflow, waiting };
}

describe('combined statistics (cumulative and real time) through the twilio SDK', () => {
  it('Workspace Statistics', async () => {
    const { wsSid, ws, waiting } = await setUp('Combined workspace');
    const stats = await ws.statistics().fetch({ minutes: 60, splitByWaitTime: '30' });
    expect(stats.accountSid).toBe(s.account.sid);
    expect(stats.workspaceSid).toBe(wsSid);
    expect(stats.url).toBe(`${s.url}/v1/Workspaces/${wsSid}/Statistics`);
    expect(stats.cumulative).toMatchObject({
      tasks_created: 3,
      tasks_canceled: 1,
      reservations_accepted: 1,
      split_by_wait_time: { '30': expect.any(Object) },
    });
    expect(stats.cumulative).not.toHaveProperty('url');
    expect(stats.cumulative).not.toHaveProperty('workspace_sid');
    expect(stats.realtime).toMatchObject({
      total_tasks: 2,
      total_workers: 2,
      tasks_by_status: { pending: 1, reserved: 0, assigned: 1, wrapping: 0 },
      longest_task_waiting_sid: waiting.sid,
    });
    // The parts equal the resource's own CumulativeStatistics and RealTimeStatistics answers.
    const realtime = await ws.realTimeStatistics().fetch();
    expect(stats.realtime).toMatchObject({
      tasks_by_status: realtime.tasksByStatus,
      total_tasks: realtime.totalTasks,
    });
    await expectRestException(ws.statistics().fetch({ minutes: 0 }), 400, 20001);
    await expectRestException(
      s.taskrouter
        .workspaces('WS' + '0'.repeat(32))
        .statistics()
        .fetch(),
      404,
      20404,
    );
  });

  it('TaskQueue Statistics, and the TaskQueues statistics list with its filters and pages', async () => {
    const { wsSid, ws, support, sales } = await setUp('Combined queues');
    const one = await ws.taskQueues(sales.sid).statistics().fetch();
    expect(one).toMatchObject({ accountSid: s.account.sid, taskQueueSid: sales.sid, workspaceSid: wsSid });
    expect(one.url).toBe(`${s.url}/v1/Workspaces/${wsSid}/TaskQueues/${sales.sid}/Statistics`);
    expect(one.cumulative).toMatchObject({ tasks_entered: 2, tasks_canceled: 1 });
    expect(one.realtime).toMatchObject({
      total_tasks: 1,
      total_eligible_workers: 1,
      total_available_workers: 0,
      tasks_by_status: { pending: 1 },
    });

    const all = await ws.taskQueues.statistics.list({ minutes: 60 });
    expect(all.map((q) => q.taskQueueSid)).toEqual([support.sid, sales.sid]);
    expect(all[0]!.cumulative).toMatchObject({ tasks_entered: 1, reservations_accepted: 1 });
    expect(all[0]!.realtime).toMatchObject({ total_available_workers: 1, tasks_by_status: { assigned: 1 } });

    const named = await ws.taskQueues.statistics.list({ friendlyName: 'Sales' });
    expect(named.map((q) => q.taskQueueSid)).toEqual([sales.sid]);
    const paged = await ws.taskQueues.statistics.page({ pageSize: 1 });
    expect(paged.instances).toHaveLength(1);
    const next = await paged.nextPage();
    expect(next!.instances.map((q) => q.taskQueueSid)).toEqual([sales.sid]);
    await expectRestException(
      ws.taskQueues(sales.sid).statistics().fetch({ taskChannel: 'nope' }),
      404,
      20404,
    );
  });

  it('Workflow Statistics', async () => {
    const { wsSid, ws, workflow } = await setUp('Combined workflow');
    const stats = await ws.workflows(workflow.sid).statistics().fetch({ taskChannel: 'default' });
    expect(stats).toMatchObject({ workflowSid: workflow.sid, workspaceSid: wsSid });
    expect(stats.url).toBe(`${s.url}/v1/Workspaces/${wsSid}/Workflows/${workflow.sid}/Statistics`);
    expect(stats.cumulative).toMatchObject({ tasks_entered: 3, tasks_canceled: 1 });
    expect(stats.realtime).toMatchObject({ total_tasks: 2, tasks_by_status: { pending: 1, assigned: 1 } });
  });
});
