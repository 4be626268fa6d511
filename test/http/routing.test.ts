import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TestApp } from '../helpers/app.js';
import { createRoutingApp, type routingHelpers } from '../helpers/routing.js';

let t: TestApp;
let clock: ManualClock;
let h: ReturnType<typeof routingHelpers>;

beforeAll(async () => {
  const made = await createRoutingApp();
  ({ t, clock } = made);
  h = made;
});
afterAll(() => t.close());

const sidOf = (x: { sid: string }) => x.sid;

describe('Routing', () => {
  it('multitasking: a worker takes tasks up to its channel capacity, and more when a task completes', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.idle);
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${ann}/Channels/default`, { Capacity: '2' });
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {}));
    expect(tasks.map((x) => x.assignment_status)).toEqual(['reserved', 'reserved', 'pending']);
    const [r] = (await h.get(`/v1/Workspaces/${s.ws}/Tasks/${tasks[0].sid}/Reservations`)).reservations;
    await h.post(`/v1/Workspaces/${s.ws}/Tasks/${tasks[0].sid}/Reservations/${r.sid}`, {
      ReservationStatus: 'accepted',
    });
    const channel = await h.get(`/v1/Workspaces/${s.ws}/Workers/${ann}/Channels/default`);
    expect(channel).toMatchObject({
      assigned_tasks: 1,
      configured_capacity: 2,
      available_capacity_percentage: 50,
    });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${tasks[2].sid}`)).assignment_status).toBe('pending');
    await h.post(`/v1/Workspaces/${s.ws}/Tasks/${tasks[0].sid}`, {
      AssignmentStatus: 'completed',
      Reason: 'ok',
    });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${tasks[2].sid}`)).assignment_status).toBe('reserved');
  });

  it('a worker gaining capacity takes a waiting task', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.idle);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const waiting = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(waiting.assignment_status).toBe('pending');
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${ann}/Channels/default`, { Capacity: '2' });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${waiting.sid}`)).assignment_status).toBe('reserved');
  });

  it('max_reserved_workers offers a task to several workers; the first accept rescinds the rest', async () => {
    const s = await h.workspace({ queue: { MaxReservedWorkers: '3' } });
    const ann = await h.worker(s, 'ann', s.idle);
    const bob = await h.worker(s, 'bob', s.idle);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const offered = await h.offers(s, task.sid);
    expect(offered.map(([, status]) => status)).toEqual(['pending', 'pending']);
    const list = (await h.get(`/v1/Workspaces/${s.ws}/Workers/${bob}/Reservations`)).reservations;
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${bob}/Reservations/${list[0].sid}`, {
      ReservationStatus: 'accepted',
    });
    expect(Object.fromEntries(await h.offers(s, task.sid))).toEqual({
      [ann]: 'rescinded',
      [bob]: 'accepted',
    });
    expect(await h.events(s.ws)).toContain('reservation.rescinded');
  });

  it('a reserved task takes more reservations, up to max_reserved_workers, as workers become free or decline', async () => {
    const s = await h.workspace({ queue: { MaxReservedWorkers: '2' } });
    const ann = await h.worker(s, 'ann', s.idle);
    const bob = await h.worker(s, 'bob', s.offline);
    const cy = await h.worker(s, 'cy', s.offline);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(Object.fromEntries(await h.offers(s, task.sid))).toEqual({ [ann]: 'pending' });
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${bob}`, { ActivitySid: s.idle });
    expect(Object.fromEntries(await h.offers(s, task.sid))).toEqual({ [ann]: 'pending', [bob]: 'pending' });
    // Two pending reservations: the queue's limit; a third free worker waits.
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${cy}`, { ActivitySid: s.idle });
    expect(await h.offers(s, task.sid)).toHaveLength(2);
    const [annR] = (await h.get(`/v1/Workspaces/${s.ws}/Workers/${ann}/Reservations`)).reservations;
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${ann}/Reservations/${annR.sid}`, {
      ReservationStatus: 'rejected',
    });
    expect(Object.fromEntries(await h.offers(s, task.sid))).toEqual({
      [ann]: 'rejected',
      [bob]: 'pending',
      [cy]: 'pending',
    });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).assignment_status).toBe('reserved');
  });

  it('orders workers by order_by, then longest idle; tasks by priority then FIFO or LIFO', async () => {
    const s = await h.workspace({
      config: (q) =>
        JSON.stringify({
          task_routing: {
            filters: [{ expression: '1==1', targets: [{ queue: q, order_by: 'worker.level DESC' }] }],
          },
        }),
    });
    const low = await h.worker(s, 'low', s.offline, '{"level":1}');
    const high = await h.worker(s, 'high', s.offline, '{"level":5}');
    const first = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Priority: '1' });
    const urgent = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Priority: '10' });
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${low}`, { ActivitySid: s.idle });
    // The free worker takes the higher-priority task.
    expect((await h.offers(s, urgent.sid))[0]).toEqual([low, 'pending']);
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${high}`, { ActivitySid: s.idle });
    expect((await h.offers(s, first.sid))[0]).toEqual([high, 'pending']);

    // order_by: with both free, the higher level gets the offer.
    const s2 = await h.workspace({
      config: (q) =>
        JSON.stringify({
          task_routing: {
            filters: [{ expression: '1==1', targets: [{ queue: q, order_by: 'worker.level DESC' }] }],
          },
        }),
    });
    await h.worker(s2, 'low', s2.idle, '{"level":1}');
    const top = await h.worker(s2, 'high', s2.idle, '{"level":5}');
    const task = await h.post(`/v1/Workspaces/${s2.ws}/Tasks`, {});
    expect(await h.offers(s2, task.sid)).toEqual([[top, 'pending']]);

    // LIFO: the newest waiting task goes first.
    const s3 = await h.workspace({ queue: { TaskOrder: 'LIFO' } });
    const w = await h.worker(s3, 'w', s3.offline);
    const older = await h.post(`/v1/Workspaces/${s3.ws}/Tasks`, {});
    clock.advance(1000);
    const newer = await h.post(`/v1/Workspaces/${s3.ws}/Tasks`, {});
    await h.post(`/v1/Workspaces/${s3.ws}/Workers/${w}`, { ActivitySid: s3.idle });
    expect((await h.get(`/v1/Workspaces/${s3.ws}/Tasks/${newer.sid}`)).assignment_status).toBe('reserved');
    expect((await h.get(`/v1/Workspaces/${s3.ws}/Tasks/${older.sid}`)).assignment_status).toBe('pending');
  });

  it('without order_by: longest idle first (activity change or last freed task), ties by SID, past a page of busy members', async () => {
    const s = await h.workspace();
    const workers: string[] = [];
    // All made available in the same second: equally idle, so offered in SID order.
    for (let i = 0; i < 20; i++) workers.push(await h.worker(s, `w${i}`, s.idle));
    const bySid = [...workers].sort();
    const tasks: string[] = [];
    // 18 tasks: the first 16 members (the walk's first page) are busy by the 17th.
    for (let i = 0; i < 18; i++) {
      const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
      tasks.push(task.sid);
      expect(await h.offers(s, task.sid)).toEqual([[bySid[i], 'pending']]);
    }
    // bySid[18] changes activity a second later: now bySid[19] has been idle longest.
    clock.advance(1000);
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${bySid[18]}`, { ActivitySid: s.offline });
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${bySid[18]}`, { ActivitySid: s.idle });
    const next = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(await h.offers(s, next.sid)).toEqual([[bySid[19], 'pending']]);
    // bySid[0] is freed another second later (its task canceled): bySid[18] is idle longer.
    clock.advance(1000);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks/${tasks[0]}`, {
      AssignmentStatus: 'canceled',
      Reason: 'gone',
    });
    const last = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(await h.offers(s, last.sid)).toEqual([[bySid[18], 'pending']]);
    const after = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(await h.offers(s, after.sid)).toEqual([[bySid[0], 'pending']]);
  });

  it('a task without WorkflowSid takes the only workflow of its workspace; none or several is a 400', async () => {
    const s = await h.workspace();
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(task.workflow_sid).toBe(s.workflow);
    await h.post(`/v1/Workspaces/${s.ws}/Workflows`, {
      FriendlyName: 'Second',
      Configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: s.queue } } }),
    });
    const two = await t.request({ method: 'POST', url: `/v1/Workspaces/${s.ws}/Tasks`, form: {} });
    expect(two.statusCode).toBe(400);
    expect(two.json().message).toMatch(/more than one Workflow/);
    const bare = (await h.post('/v1/Workspaces', { FriendlyName: `bare-${Math.random()}` })).sid as string;
    const none = await t.request({ method: 'POST', url: `/v1/Workspaces/${bare}/Tasks`, form: {} });
    expect(none.statusCode).toBe(400);
    expect(none.json().message).toMatch(/has no Workflow/);
  });

  it("a reservation's events carry its status and version as stored, each change one version up", async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.idle);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const [r] = (await h.get(`/v1/Workspaces/${s.ws}/Workers/${ann}/Reservations`)).reservations;
    const url = `/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations/${r.sid}`;
    await h.post(url, { Instruction: 'dequeue', DequeueFrom: '+15551234567' });
    await h.post(url, { ReservationStatus: 'wrapping' });
    await h.post(url, { ReservationStatus: 'completed' });
    const events = (await t.store.listEvents(s.ws, 0, 10_000)).filter((e) => e.resourceSid === r.sid);
    expect(events.map((e) => [e.type, e.data.reservation_status, e.data.version])).toEqual([
      ['reservation.created', 'pending', 0],
      ['reservation.accepted', 'accepted', 2],
      ['reservation.wrapup', 'wrapping', 3],
      ['reservation.completed', 'completed', 4],
    ]);
    expect((events[1]!.data.instruction as { instruction: string }).instruction).toBe('dequeue');
    expect((await t.store.getReservation(s.ws, r.sid))?.version).toBe(4);
  });

  it('skip_if skips a step nobody can take; known_worker_sid offers the named worker only; target expressions read task.*', async () => {
    const s = await h.workspace({
      config: (q) =>
        JSON.stringify({
          task_routing: {
            filters: [
              {
                filter_friendly_name: 'Known',
                expression: 'known == true',
                targets: [{ queue: q, known_worker_sid: 'task.agent', timeout: 30 }],
              },
              {
                filter_friendly_name: 'Skipping',
                expression: 'skip == true',
                targets: [{ queue: q, expression: 'worker.lang == "xx"', skip_if: '1==1' }, { queue: q }],
              },
              {
                filter_friendly_name: 'Language',
                expression: 'lang IN ["en", "fr"]',
                targets: [{ queue: q, expression: 'worker.lang == task.lang' }],
              },
            ],
            default_filter: { queue: q },
          },
        }),
    });
    const en = await h.worker(s, 'en', s.idle, '{"lang":"en"}');
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${en}/Channels/default`, { Capacity: '10' });
    const fr = await h.worker(s, 'fr', s.idle, '{"lang":"fr"}');
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${fr}/Channels/default`, { Capacity: '10' });

    const known = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {
      Attributes: JSON.stringify({ known: true, agent: fr }),
    });
    expect(await h.offers(s, known.sid)).toEqual([[fr, 'pending']]);
    const french = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"lang":"fr"}' });
    expect(await h.offers(s, french.sid)).toEqual([[fr, 'pending']]);
    const skipped = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"skip":true}' });
    expect((await h.offers(s, skipped.sid)).length).toBe(1);
    expect(await h.events(s.ws)).toContain('workflow.skipped');
    expect(await h.events(s.ws)).toContain('workflow.target-matched');
  });

  it('single-tasking: the queue moves a reserved worker to its reservation activity and an assigned one to its assignment activity', async () => {
    const base = await h.workspace({ multitasking: false });
    const acts = (await h.get(`/v1/Workspaces/${base.ws}/Activities`)).activities as {
      sid: string;
      friendly_name: string;
    }[];
    const reserved = (
      await h.post(`/v1/Workspaces/${base.ws}/Activities`, { FriendlyName: 'Reserved', Available: 'false' })
    ).sid;
    const busy = (
      await h.post(`/v1/Workspaces/${base.ws}/Activities`, { FriendlyName: 'On a task', Available: 'false' })
    ).sid;
    void acts;
    await h.post(`/v1/Workspaces/${base.ws}/TaskQueues/${base.queue}`, {
      ReservationActivitySid: reserved,
      AssignmentActivitySid: busy,
    });
    const ann = await h.worker(base, 'ann', base.idle);
    const task = await h.post(`/v1/Workspaces/${base.ws}/Tasks`, {});
    expect((await h.get(`/v1/Workspaces/${base.ws}/Workers/${ann}`)).activity_sid).toBe(reserved);
    const [r] = (await h.get(`/v1/Workspaces/${base.ws}/Tasks/${task.sid}/Reservations`)).reservations;
    await h.post(`/v1/Workspaces/${base.ws}/Tasks/${task.sid}/Reservations/${r.sid}`, {
      ReservationStatus: 'accepted',
    });
    expect((await h.get(`/v1/Workspaces/${base.ws}/Workers/${ann}`)).activity_sid).toBe(busy);
  });

  it('re-evaluates pending tasks on attribute updates, ReEvaluateTasks and queue membership changes', async () => {
    const s = await h.workspace();
    const q2 = (
      await h.post(`/v1/Workspaces/${s.ws}/TaskQueues`, { FriendlyName: 'VIP', TargetWorkers: 'vip == true' })
    ).sid as string;
    const cfg = (vipQueue: string) =>
      JSON.stringify({
        task_routing: {
          filters: [{ expression: 'vip == true', targets: [{ queue: vipQueue }] }],
          default_filter: { queue: s.queue },
        },
      });
    await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, { Configuration: cfg(q2) });
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"vip":false}' });
    expect(task.task_queue_sid).toBe(s.queue);
    const moved = await h.post(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`, { Attributes: '{"vip":true}' });
    expect(moved.task_queue_sid).toBe(q2);
    expect(await h.events(s.ws)).toContain('task-queue.moved');

    await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, {
      Configuration: cfg(s.queue),
      ReEvaluateTasks: 'true',
    });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).task_queue_sid).toBe(s.queue);

    const q3 = (
      await h.post(`/v1/Workspaces/${s.ws}/TaskQueues`, { FriendlyName: 'Nobody', TargetWorkers: '1==0' })
    ).sid;
    const direct = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { TaskQueueSid: q3 });
    expect(direct).toMatchObject({ task_queue_sid: q3, workflow_sid: null, assignment_status: 'pending' });
    const ann = await h.worker(s, 'ann', s.idle);
    await h.post(`/v1/Workspaces/${s.ws}/Workers/${ann}/Channels/default`, { Capacity: '5' });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${direct.sid}`)).assignment_status).toBe('pending');
    await h.post(`/v1/Workspaces/${s.ws}/TaskQueues/${q3}`, { TargetWorkers: '1==1' });
    expect((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${direct.sid}`)).assignment_status).toBe('reserved');
  });

  it('RoutingTarget sends a task to one worker, ignoring capacity by default', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.offline);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { RoutingTarget: ann });
    expect(task).toMatchObject({ routing_target: ann, ignore_capacity: true, assignment_status: 'reserved' });
    const strict = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {
      RoutingTarget: ann,
      IgnoreCapacity: 'false',
    });
    expect(strict.assignment_status).toBe('pending');
  });

  it('records an instruction with its parameters; If-Match guards reservation updates; bad updates are 400s', async () => {
    const s = await h.workspace();
    await h.worker(s, 'ann', s.idle);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const [r] = (await h.get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations`)).reservations;
    const url = `/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations/${r.sid}`;
    const stale = await t.request({
      method: 'POST',
      url,
      form: { ReservationStatus: 'accepted' },
      headers: { 'if-match': '"99"' },
    });
    expect(stale.statusCode).toBe(412);
    const bad = await t.request({ method: 'POST', url, form: { ReservationStatus: 'timeout' } });
    expect(bad.statusCode).toBe(400);
    const badInstruction = await t.request({ method: 'POST', url, form: { Instruction: 'fly' } });
    expect(badInstruction.statusCode).toBe(400);
    const current = await t.request({ url });
    const ok = await t.request({
      method: 'POST',
      url,
      form: { Instruction: 'conference', From: '+15550100', EndConferenceOnExit: 'true' },
      headers: { 'if-match': current.headers.etag as string },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().reservation_status).toBe('accepted');
    const accepted = (await t.store.listEvents(s.ws, 0, 10_000)).find(
      (e) => e.type === 'reservation.accepted',
    )!;
    expect(accepted.data).toMatchObject({
      task_sid: task.sid,
      instruction: { instruction: 'conference', From: '+15550100', EndConferenceOnExit: 'true' },
    });
    expect(
      (await t.request({ url: `/v1/Workspaces/${s.ws}/Tasks/WT${'0'.repeat(32)}/Reservations` })).statusCode,
    ).toBe(404);
    void sidOf;
  });
});

describe('Deleting what tasks use', () => {
  it('refuses to delete a queue or a workflow with active tasks, and allows it once they have ended', async () => {
    const s = await h.workspace();
    const direct = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { TaskQueueSid: s.queue });
    const viaWorkflow = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const workflow = await t.request({
      method: 'DELETE',
      url: `/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`,
    });
    expect(workflow.statusCode).toBe(400);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks/${viaWorkflow.sid}`, {
      AssignmentStatus: 'canceled',
      Reason: 'x',
    });
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Workflows/${s.workflow}` }))
        .statusCode,
    ).toBe(204);
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}` })).statusCode,
    ).toBe(400);
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Tasks/${direct.sid}` });
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}` })).statusCode,
    ).toBe(204);
  });

  it('deleting a workspace removes its tasks, reservations and loads', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.idle);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect((await t.store.workerLoads(ann))[0]).toMatchObject({ reserved: 1 });
    expect((await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}` })).statusCode).toBe(204);
    expect(await t.store.workerLoads(ann)).toEqual([]);
    expect(await t.store.hasWaitingTasks(s.ws)).toBe(false);
  });

  it('deleting a worker cancels its pending reservations and routes their tasks again', async () => {
    const s = await h.workspace();
    const ann = await h.worker(s, 'ann', s.idle);
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const bob = await h.worker(s, 'bob', s.idle);
    expect(await h.offers(s, task.sid)).toEqual([[ann, 'pending']]);
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Workers/${ann}` })).statusCode,
    ).toBe(204);
    expect(await h.offers(s, task.sid)).toEqual([
      [ann, 'canceled'],
      [bob, 'pending'],
    ]);
  });
});

describe('Workers arriving', () => {
  it('a worker created available takes a waiting task; so do workers whose activity is renamed into a queue', async () => {
    const s = await h.workspace();
    const task = await h.post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const ann = await h.worker(s, 'ann', s.idle);
    expect(await h.offers(s, task.sid)).toEqual([[ann, 'pending']]);

    const s2 = await h.workspace();
    const ready = (
      await h.post(`/v1/Workspaces/${s2.ws}/Activities`, { FriendlyName: 'Ready', Available: 'true' })
    ).sid as string;
    const q = (
      await h.post(`/v1/Workspaces/${s2.ws}/TaskQueues`, {
        FriendlyName: 'Greeters',
        TargetWorkers: 'worker.activity_name == "Greeting"',
      })
    ).sid as string;
    const waiting = await h.post(`/v1/Workspaces/${s2.ws}/Tasks`, { TaskQueueSid: q });
    const bob = await h.worker(s2, 'bob', ready);
    expect(await h.offers(s2, waiting.sid)).toEqual([]);
    await h.post(`/v1/Workspaces/${s2.ws}/Activities/${ready}`, { FriendlyName: 'Greeting' });
    expect(await h.offers(s2, waiting.sid)).toEqual([[bob, 'pending']]);
  });
});
