import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TestApp } from '../helpers/app.js';
import { createRoutingApp, type routingHelpers } from '../helpers/routing.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let clock: ManualClock;
let h: ReturnType<typeof routingHelpers>;

beforeAll(async () => {
  const made = await createRoutingApp();
  ({ t, clock } = made);
  h = made;
});
afterAll(() => t.close());

const post = (url: string, form: Record<string, string | undefined>) => h.post(url, form);
const get = (url: string) => h.get(url);
const workspace = (o?: Parameters<typeof h.workspace>[0]) => h.workspace(o);
const worker = (...a: Parameters<typeof h.worker>) => h.worker(...a);
const events = (ws: string) => h.events(ws);

describe('Tasks', () => {
  it('creates a task that routes to the only available worker, with the events in order', async () => {
    const s = await workspace();
    const alice = await worker(s, 'alice', s.idle);
    await worker(s, 'bob', s.offline);
    const before = (await events(s.ws)).length;
    const created = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${s.ws}/Tasks`,
      form: { Attributes: '{"type":"support"}', Priority: '3' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json();
    expectMatchesSpec('CreateTask', 201, task);
    expect(task).toMatchObject({
      assignment_status: 'reserved',
      priority: 3,
      age: 0,
      workflow_sid: s.workflow,
      workflow_friendly_name: 'Main',
      task_queue_sid: s.queue,
      task_queue_friendly_name: 'All',
      task_channel_unique_name: 'default',
      timeout: 86400,
      attributes: '{"type":"support"}',
      reason: null,
    });
    expect(created.headers.etag).toBe(
      '"1"'.replace('1', String(task.sid ? (await t.store.getTask(s.ws, task.sid))!.version : 0)),
    );
    expect((await events(s.ws)).slice(before)).toEqual([
      'workflow.entered',
      'task-queue.entered',
      'task.created',
      'reservation.created',
    ]);
    const list = await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations`);
    expectMatchesSpec('ListTaskReservation', 200, list);
    expect(list.reservations).toHaveLength(1);
    expect(list.reservations[0]).toMatchObject({
      worker_sid: alice,
      worker_name: 'alice',
      reservation_status: 'pending',
    });
    const viaWorker = await get(
      `/v1/Workspaces/${s.ws}/Workers/${alice}/Reservations?ReservationStatus=pending`,
    );
    expectMatchesSpec('ListWorkerReservation', 200, viaWorker);
    expect(viaWorker.reservations.map((r: { sid: string }) => r.sid)).toEqual([list.reservations[0].sid]);
  });

  it('runs the full lifecycle: accept, wrap up, complete; capacity shows on the worker channel', async () => {
    const s = await workspace();
    const alice = await worker(s, 'alice', s.idle);
    const task = await post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{}' });
    const [r] = (await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations`)).reservations;
    const accepted = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${s.ws}/Workers/${alice}/Reservations/${r.sid}`,
      form: { ReservationStatus: 'accepted' },
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expectMatchesSpec('UpdateWorkerReservation', 200, accepted.json());
    expect(accepted.json().reservation_status).toBe('accepted');
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).assignment_status).toBe('assigned');
    const channel = await get(`/v1/Workspaces/${s.ws}/Workers/${alice}/Channels/default`);
    expect(channel).toMatchObject({
      assigned_tasks: 1,
      configured_capacity: 1,
      available_capacity_percentage: 0,
    });

    const wrapping = await post(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`, { AssignmentStatus: 'wrapping' });
    expect(wrapping.assignment_status).toBe('wrapping');
    const completed = await post(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`, {
      AssignmentStatus: 'completed',
      Reason: 'done',
    });
    expect(completed).toMatchObject({ assignment_status: 'completed', reason: 'done' });
    const after = await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations/${r.sid}`);
    expect(after.reservation_status).toBe('completed');
    expect((await get(`/v1/Workspaces/${s.ws}/Workers/${alice}/Channels/default`)).assigned_tasks).toBe(0);
    const types = await events(s.ws);
    expect(types.slice(types.indexOf('reservation.accepted'))).toEqual([
      'reservation.accepted',
      'task.wrapup',
      'reservation.wrapup',
      'task.completed',
      'reservation.completed',
    ]);
  });

  it('a waiting task goes to a worker who becomes available', async () => {
    const s = await workspace();
    const bob = await worker(s, 'bob', s.offline);
    const task = await post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(task.assignment_status).toBe('pending');
    await post(`/v1/Workspaces/${s.ws}/Workers/${bob}`, { ActivitySid: s.idle });
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).assignment_status).toBe('reserved');
  });

  it('a rejected reservation goes to the next worker; a timed-out one moves its worker to the timeout activity', async () => {
    const s = await workspace({ timeout: 30 });
    const alice = await worker(s, 'alice', s.idle);
    clock.advance(1000);
    const bob = await worker(s, 'bob', s.idle);
    const task = await post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const [first] = (await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations`)).reservations;
    expect(first.worker_sid).toBe(alice); // longest idle
    await post(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations/${first.sid}`, {
      ReservationStatus: 'rejected',
    });
    const all = (await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}/Reservations`)).reservations;
    expect(
      all.map((r: { worker_sid: string; reservation_status: string }) => [
        r.worker_sid,
        r.reservation_status,
      ]),
    ).toEqual([
      [alice, 'rejected'],
      [bob, 'pending'],
    ]);
    clock.advance(30_000);
    await t.services.timers.fireDue();
    const bobAfter = await get(`/v1/Workspaces/${s.ws}/Workers/${bob}`);
    const wsJson = await get(`/v1/Workspaces/${s.ws}`);
    expect(bobAfter.activity_sid).toBe(wsJson.timeout_activity_sid);
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).assignment_status).toBe('pending');
    expect(await events(s.ws)).toContain('reservation.timeout');
  });

  it('cancels a task at its TTL, and by the API with a Reason', async () => {
    const s = await workspace();
    const ttl = await post(`/v1/Workspaces/${s.ws}/Tasks`, { Timeout: '60' });
    clock.advance(59_000);
    await t.services.timers.fireDue();
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${ttl.sid}`)).assignment_status).toBe('pending');
    clock.advance(1_000);
    await t.services.timers.fireDue();
    expect(await get(`/v1/Workspaces/${s.ws}/Tasks/${ttl.sid}`)).toMatchObject({
      assignment_status: 'canceled',
      reason: 'Task TTL Exceeded',
      age: 60,
    });

    const other = await post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    const noReason = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${s.ws}/Tasks/${other.sid}`,
      form: { AssignmentStatus: 'canceled' },
    });
    expectTwilioError(noReason.json(), 400, 20001);
    const canceled = await post(`/v1/Workspaces/${s.ws}/Tasks/${other.sid}`, {
      AssignmentStatus: 'canceled',
      Reason: 'hung up',
    });
    expect(canceled).toMatchObject({ assignment_status: 'canceled', reason: 'hung up' });
  });

  it('moves a task to the next step at its cumulative timeout, and cancels it past the last', async () => {
    const s = await workspace({
      config: (q) =>
        JSON.stringify({
          task_routing: {
            filters: [
              { expression: '1==1', targets: [{ queue: q, timeout: 10, priority: 5 }, { timeout: 20 }] },
            ],
          },
        }),
    });
    const task = await post(`/v1/Workspaces/${s.ws}/Tasks`, {});
    expect(task.priority).toBe(5);
    clock.advance(10_000);
    await t.services.timers.fireDue();
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).priority).toBe(0);
    clock.advance(19_000);
    await t.services.timers.fireDue();
    expect((await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).assignment_status).toBe('pending');
    clock.advance(1_000);
    await t.services.timers.fireDue();
    expect(await get(`/v1/Workspaces/${s.ws}/Tasks/${task.sid}`)).toMatchObject({
      assignment_status: 'canceled',
      reason: 'Workflow Timeout',
    });
    expect(await events(s.ws)).toContain('workflow.timeout');
  });

  it('lists tasks with filters and ordering; deletes a task', async () => {
    const s = await workspace();
    const a = await post(`/v1/Workspaces/${s.ws}/Tasks`, { Priority: '1', Attributes: '{"lang":"en"}' });
    const b = await post(`/v1/Workspaces/${s.ws}/Tasks`, { Priority: '9', Attributes: '{"lang":"fr"}' });
    const listed = await get(`/v1/Workspaces/${s.ws}/Tasks?Ordering=Priority:desc`);
    expectMatchesSpec('ListTask', 200, listed);
    expect(listed.tasks.map((x: { sid: string }) => x.sid)).toEqual([b.sid, a.sid]);
    const fr = await get(
      `/v1/Workspaces/${s.ws}/Tasks?EvaluateTaskAttributes=${encodeURIComponent('lang == "fr"')}`,
    );
    expect(fr.tasks.map((x: { sid: string }) => x.sid)).toEqual([b.sid]);
    const pending = await get(`/v1/Workspaces/${s.ws}/Tasks?AssignmentStatus=pending&TaskQueueName=all`);
    expect(pending.tasks).toHaveLength(2);
    const deleted = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Tasks/${a.sid}` });
    expect(deleted.statusCode).toBe(204);
    expect((await t.request({ url: `/v1/Workspaces/${s.ws}/Tasks/${a.sid}` })).statusCode).toBe(404);
  });
});
