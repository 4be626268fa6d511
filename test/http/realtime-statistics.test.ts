import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { countTasks, taskFigures, type TaskScope } from '../../src/domain/statistics.js';
import type { TaskStatus } from '../../src/domain/types.js';
import { PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { createRoutingApp, type RoutingSetup, type routingHelpers } from '../helpers/routing.js';
import { expectTwilioError } from '../helpers/spec.js';
import { pick, prng } from '../scale/recount.js';

let t: TestApp;
let clock: ManualClock;
let h: ReturnType<typeof routingHelpers>;

beforeAll(async () => {
  const made = await createRoutingApp();
  ({ t, clock } = made);
  h = made;
});
afterAll(() => t.close());

/** A Twilio error of this status (404: not found; 400: invalid parameter). */
function fails(res: { statusCode: number; json(): unknown }, status: 400 | 404): void {
  expect(res.statusCode).toBe(status);
  expectTwilioError(res.json(), status, status === 404 ? 20404 : 20001);
}

interface TaskJson {
  sid: string;
  assignment_status: TaskStatus;
  priority: number;
  task_queue_sid: string | null;
  workflow_sid: string | null;
  task_channel_sid: string;
  date_created: string;
  task_queue_entered_date: string | null;
}

async function all<T>(url: string, key: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = `${url}${url.includes('?') ? '&' : '?'}PageSize=1000`;
  while (next) {
    const page = await h.get(next);
    items.push(...(page[key] as T[]));
    next = (page.meta.next_page_url as string | null)?.slice(PUBLIC_URL.length) ?? null;
  }
  return items;
}

/** Every real-time figure recounted from the task, worker and activity lists, as the API shows them. */
async function recount(s: RoutingSetup, queues: string[], channel?: { sid: string; name: string }) {
  const ws = `/v1/Workspaces/${s.ws}`;
  const tasks = (await all<TaskJson>(`${ws}/Tasks`, 'tasks')).map((x) => ({
    sid: x.sid,
    assignmentStatus: x.assignment_status,
    priority: x.priority,
    taskQueueSid: x.task_queue_sid,
    workflowSid: x.workflow_sid,
    taskChannelSid: x.task_channel_sid,
    createdMs: Date.parse(x.date_created),
    queueEnteredMs: x.task_queue_entered_date === null ? null : Date.parse(x.task_queue_entered_date),
  }));
  const now = clock.now();
  const json = (scope: TaskScope) => {
    const counted = countTasks(tasks, { ...scope, taskChannelSid: channel?.sid });
    const f = taskFigures(counted, now);
    return {
      figures: {
        longest_task_waiting_age: f.longestTaskWaitingAge,
        longest_task_waiting_sid: f.longestTaskWaitingSid,
        tasks_by_priority: f.tasksByPriority,
        tasks_by_status: f.tasksByStatus,
        total_tasks: f.totalTasks,
      },
      inQueue: counted.longestInQueue,
    };
  };
  const activities = await all<{ sid: string; friendly_name: string; available: boolean }>(
    `${ws}/Activities`,
    'activities',
  );
  const workersIn = async (filter: string) => {
    const workers = await all<{ activity_sid: string }>(`${ws}/Workers${filter}`, 'workers');
    return activities.map((a) => ({
      sid: a.sid,
      friendly_name: a.friendly_name,
      workers: workers.filter((k) => k.activity_sid === a.sid).length,
    }));
  };
  const queueFigures: Record<string, unknown> = {};
  for (const q of queues) {
    const members = await workersIn(`?TaskQueueSid=${q}`);
    const { figures, inQueue } = json({ taskQueueSid: q });
    queueFigures[q] = {
      ...figures,
      activity_statistics: members,
      total_eligible_workers: members.reduce((n, a) => n + a.workers, 0),
      total_available_workers: members
        .filter((a) => activities.find((x) => x.sid === a.sid)!.available)
        .reduce((n, a) => n + a.workers, 0),
      longest_relative_task_age_in_queue: inQueue === null ? 0 : Math.floor((now - inQueue.sinceMs) / 1000),
      longest_relative_task_sid_in_queue: inQueue?.sid ?? null,
    };
  }
  return {
    workspace: json({}).figures,
    workflow: json({ workflowSid: s.workflow }).figures,
    queues: queueFigures,
    // Workers/RealTimeStatistics says how a TaskChannel narrows the workspace's worker figures.
    workers: (await h.get(`${ws}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel.name}` : ''}`))
      .activity_statistics,
  };
}

/** Checks every figure against the recount; returns the workspace's tasks by status. */
async function expectExact(
  s: RoutingSetup,
  queues: string[],
  channels: { sid: string; name: string }[],
): Promise<Record<string, number>> {
  for (const channel of [undefined, ...channels]) {
    const q = channel ? `?TaskChannel=${channel.name}` : '';
    const expected = await recount(s, queues, channel);
    const ws = await h.get(`/v1/Workspaces/${s.ws}/RealTimeStatistics${q}`);
    expect(ws, `workspace ${q}`).toMatchObject({
      ...expected.workspace,
      activity_statistics: expected.workers,
    });
    expect(ws.total_workers).toBe(
      expected.workers.reduce((n: number, a: { workers: number }) => n + a.workers, 0),
    );
    const wf = await h.get(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/RealTimeStatistics${q}`);
    expect(wf, `workflow ${q}`).toMatchObject(expected.workflow);
    for (const queue of queues) {
      const qs = await h.get(`/v1/Workspaces/${s.ws}/TaskQueues/${queue}/RealTimeStatistics${q}`);
      expect(qs, `queue ${queue} ${q}`).toMatchObject(expected.queues[queue]!);
    }
    const bulk = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${s.ws}/TaskQueues/RealTimeStatistics`,
      payload: { TaskQueueSids: queues, ...(channel ? { TaskChannel: channel.name } : {}) },
    });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(bulk.json().task_queue_response_count).toBe(queues.length);
    for (const [i, queue] of queues.entries()) {
      expect(bulk.json().task_queue_data[i], `bulk ${queue} ${q}`).toMatchObject(expected.queues[queue]!);
    }
  }
  return (await h.get(`/v1/Workspaces/${s.ws}/RealTimeStatistics`)).tasks_by_status;
}

describe('RealTimeStatistics of the workspace, task queues and workflows', () => {
  it('answers zeros, every live status and every activity for an empty workspace', async () => {
    const s = await h.workspace();
    const ws = await h.get(`/v1/Workspaces/${s.ws}/RealTimeStatistics`);
    expect(ws).toMatchObject({
      account_sid: t.account.sid,
      workspace_sid: s.ws,
      total_tasks: 0,
      total_workers: 0,
      tasks_by_status: { pending: 0, reserved: 0, assigned: 0, wrapping: 0 },
      tasks_by_priority: {},
      longest_task_waiting_age: 0,
      longest_task_waiting_sid: null,
      url: `${PUBLIC_URL}/v1/Workspaces/${s.ws}/RealTimeStatistics`,
    });
    expect(ws.activity_statistics.map((a: { workers: number }) => a.workers)).toEqual([0, 0, 0]);
    const q = await h.get(`/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`);
    expect(q).toMatchObject({
      task_queue_sid: s.queue,
      total_eligible_workers: 0,
      total_available_workers: 0,
      longest_relative_task_age_in_queue: 0,
      longest_relative_task_sid_in_queue: null,
      url: `${PUBLIC_URL}/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`,
    });
    const f = await h.get(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/RealTimeStatistics`);
    expect(f).toMatchObject({ workflow_sid: s.workflow, total_tasks: 0 });
  });

  it('counts tasks, ages and workers as they change', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.offline);
    const first = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow, Priority: '5' });
    clock.advance(3000);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow });
    clock.advance(4000);
    const q = await h.get(`/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`);
    expect(q).toMatchObject({
      total_tasks: 2,
      tasks_by_status: { pending: 2, reserved: 0, assigned: 0, wrapping: 0 },
      tasks_by_priority: { '0': 1, '5': 1 },
      longest_task_waiting_sid: first.sid,
      longest_task_waiting_age: 7,
      longest_relative_task_sid_in_queue: first.sid,
      longest_relative_task_age_in_queue: 7,
      total_eligible_workers: 1,
      total_available_workers: 0,
    });
    // Ann becomes available and is reserved the higher-priority task.
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${ann}`, { ActivitySid: s.idle });
    const after = await h.get(`/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`);
    expect(after).toMatchObject({
      tasks_by_status: { pending: 1, reserved: 1 },
      total_available_workers: 1,
    });
    const ws = await h.get(`/v1/Workspaces/${s.ws}/RealTimeStatistics?TaskChannel=voice`);
    expect(ws).toMatchObject({ total_tasks: 0, longest_task_waiting_sid: null });
  });

  it('answers the same body while nothing changes, and a grown age once the clock has moved a second', async () => {
    const s = await h.workspace();
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow });
    const urls = [
      `/v1/Workspaces/${s.ws}/RealTimeStatistics`,
      `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`,
      `/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/RealTimeStatistics`,
    ];
    const bodies = async () => Promise.all(urls.map(async (url) => (await t.request({ url })).body));
    clock.advance(2000);
    const before = await bodies();
    expect(await bodies()).toEqual(before);
    clock.advance(999);
    expect(await bodies()).toEqual(before);
    clock.advance(1);
    for (const body of await bodies()) {
      expect(JSON.parse(body)).toMatchObject({
        longest_task_waiting_sid: task.sid,
        longest_task_waiting_age: 3,
      });
    }
    const queue = JSON.parse((await t.request({ url: urls[1]! })).body);
    expect(queue.longest_relative_task_age_in_queue).toBe(3);
  });

  it('refuses what names nothing: unknown queues, workflows and channels; a bulk body without queues', async () => {
    const s = await h.workspace();
    const unknownQueue = `WQ${'0'.repeat(32)}`;
    fails(
      await t.request({ url: `/v1/Workspaces/${s.ws}/TaskQueues/${unknownQueue}/RealTimeStatistics` }),
      404,
    );
    fails(
      await t.request({ url: `/v1/Workspaces/${s.ws}/Workflows/WW${'0'.repeat(32)}/RealTimeStatistics` }),
      404,
    );
    fails(await t.request({ url: `/v1/Workspaces/${s.ws}/RealTimeStatistics?TaskChannel=nope` }), 404);
    const other = await t.newAccount();
    fails(await t.request({ url: `/v1/Workspaces/${s.ws}/RealTimeStatistics`, as: other }), 404);
    const bulk = (payload: unknown) =>
      t.request({
        method: 'POST',
        url: `/v1/Workspaces/${s.ws}/TaskQueues/RealTimeStatistics`,
        payload: payload as object,
      });
    fails(await bulk({}), 400);
    fails(await bulk({ TaskQueueSids: ['nope'] }), 400);
    // Unknown queues are left out; each queue is answered once; the other shapes callers send.
    const ok = await bulk({ TaskQueueSids: [s.queue, unknownQueue, s.queue] });
    expect(ok.json()).toMatchObject({ task_queue_response_count: 1, workspace_sid: s.ws });
    expect((await bulk([s.queue])).json().task_queue_response_count).toBe(1);
    expect((await bulk([{ task_queue_sid: s.queue }])).json().task_queue_response_count).toBe(1);
    const form = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${s.ws}/TaskQueues/RealTimeStatistics`,
      form: { TaskQueueSids: s.queue },
    });
    expect(form.json().task_queue_data[0].task_queue_sid).toBe(s.queue);
  });

  it('every figure equals a recount after a seeded random run of task and worker work', async () => {
    const random = prng(Number(process.env.ROSTER_TEST_SEED ?? 14_2026));
    const s = await h.workspace();
    const base = `/v1/Workspaces/${s.ws}`;
    const queueB = (await h.post(`${base}/TaskQueues`, { FriendlyName: 'B', TargetWorkers: "skill == 'b'" }))
      .sid;
    await h.post(`${base}/Workflows/${s.workflow}`, {
      Configuration: JSON.stringify({
        task_routing: {
          filters: [{ filter_friendly_name: 'b', expression: "type == 'b'", targets: [{ queue: queueB }] }],
          default_filter: { queue: s.queue },
        },
      }),
    });
    const channels = (await all<{ sid: string; unique_name: string }>(`${base}/TaskChannels`, 'channels'))
      .filter((c) => c.unique_name === 'voice' || c.unique_name === 'chat')
      .map((c) => ({ sid: c.sid, name: c.unique_name }));
    const activities = [s.idle, s.offline, s.busy];
    const workers: string[] = [];
    for (let i = 0; i < 4; i++) {
      workers.push(await h.worker(s, `w${i}`, s.offline, JSON.stringify({ skill: i % 2 ? 'b' : 'a' })));
    }
    const tasksIn = async (status: string) =>
      (await all<TaskJson>(`${base}/Tasks?AssignmentStatus=${status}`, 'tasks')).map((x) => x.sid);

    const seen = new Set<string>();
    for (let op = 0; op < 80; op++) {
      const roll = random();
      if (roll < 0.3) {
        await h.post(`${base}/Tasks`, {
          WorkflowSid: s.workflow,
          Attributes: JSON.stringify({ type: random() < 0.5 ? 'a' : 'b' }),
          Priority: String(Math.floor(random() * 3)),
          TaskChannel: pick(random, channels).name,
        });
      } else if (roll < 0.5) {
        await h.post(`${base}/Workers/${pick(random, workers)}`, { ActivitySid: pick(random, activities) });
      } else if (roll < 0.6) {
        const waiting = [...(await tasksIn('pending')), ...(await tasksIn('reserved'))];
        if (waiting.length) {
          await h.post(
            `${base}/Tasks/${pick(random, waiting)}`,
            random() < 0.5
              ? { Priority: String(Math.floor(random() * 3)) }
              : { AssignmentStatus: 'canceled', Reason: 'test' },
          );
        }
      } else if (roll < 0.8) {
        const reserved = await tasksIn('reserved');
        if (reserved.length) {
          const task = pick(random, reserved);
          const r = (await h.get(`${base}/Tasks/${task}/Reservations?ReservationStatus=pending`))
            .reservations;
          if (r.length) {
            await h.post(`${base}/Tasks/${task}/Reservations/${r[0].sid}`, {
              ReservationStatus: random() < 0.8 ? 'accepted' : 'rejected',
            });
          }
        }
      } else if (roll < 0.9) {
        const assigned = await tasksIn('assigned');
        if (assigned.length) {
          await h.post(`${base}/Tasks/${pick(random, assigned)}`, { AssignmentStatus: 'wrapping' });
        }
      } else {
        const done = [...(await tasksIn('assigned')), ...(await tasksIn('wrapping'))];
        if (done.length) {
          await h.post(`${base}/Tasks/${pick(random, done)}`, {
            AssignmentStatus: 'completed',
            Reason: 'ok',
          });
        }
      }
      clock.advance(Math.floor(random() * 3) * 1000);
      if (op % 10 === 9) {
        const byStatus = await expectExact(s, [s.queue, queueB], channels);
        for (const [status, n] of Object.entries(byStatus)) if (n > 0) seen.add(status);
      }
    }
    // The checks met tasks in every live status.
    expect([...seen].sort()).toEqual(['assigned', 'pending', 'reserved', 'wrapping']);
  });
});
