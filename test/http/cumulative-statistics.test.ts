import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TestApp } from '../helpers/app.js';
import { createRoutingApp, type RoutingSetup, type routingHelpers } from '../helpers/routing.js';

let t: TestApp;
let clock: ManualClock;
let h: ReturnType<typeof routingHelpers>;
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

beforeAll(async () => {
  const made = await createRoutingApp(START);
  ({ t, clock } = made);
  h = made;
});
afterAll(() => t.close());

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * From t0 on a manual clock: one worker (ann, available from t0); task A created at t0 + 10 s,
 * offered to ann, accepted 30 s later, completed 10 s after; task B created at t0 + 50 s,
 * offered, rejected at once (ann goes Unavailable), canceled 45 s old.
 */
async function scenario(): Promise<RoutingSetup & { ann: string; a: string; b: string; t0: number }> {
  const t0 = clock.now();
  const s = await h.workspace();
  const ann = await h.worker(s, 'ann', s.idle);
  clock.advance(10_000);
  const a = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{}' })).sid as string;
  const [ra] = (await h.offers(s, a)).map(() => undefined);
  expect(ra).toBeUndefined();
  const reservationOf = async (task: string) =>
    ((await h.get(`/v1/Workspaces/${s.ws}/Tasks/${task}/Reservations`)).reservations as { sid: string }[])[0]!
      .sid;
  clock.advance(30_000);
  await h.post(`/v1/Workspaces/${s.ws}/Tasks/${a}/Reservations/${await reservationOf(a)}`, {
    ReservationStatus: 'accepted',
  });
  clock.advance(10_000);
  await h.post(`/v1/Workspaces/${s.ws}/Tasks/${a}`, { AssignmentStatus: 'completed', Reason: 'done' });
  const b = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{}' })).sid as string;
  await h.post(`/v1/Workspaces/${s.ws}/Tasks/${b}/Reservations/${await reservationOf(b)}`, {
    ReservationStatus: 'rejected',
    WorkerActivitySid: s.busy,
  });
  clock.advance(45_000);
  await h.post(`/v1/Workspaces/${s.ws}/Tasks/${b}`, { AssignmentStatus: 'canceled', Reason: 'gone' });
  return { ...s, ann, a, b, t0 };
}

const expectedWorkspace = {
  tasks_created: 2,
  tasks_completed: 1,
  tasks_canceled: 1,
  tasks_deleted: 0,
  tasks_moved: 0,
  tasks_timed_out_in_workflow: 0,
  reservations_created: 2,
  reservations_accepted: 1,
  reservations_rejected: 1,
  reservations_timed_out: 0,
  reservations_canceled: 0,
  reservations_rescinded: 0,
  avg_task_acceptance_time: 30,
  wait_duration_until_accepted: { avg: 30, min: 30, max: 30, total: 30 },
  wait_duration_until_canceled: { avg: 45, min: 45, max: 45, total: 45 },
  split_by_wait_time: {
    '30': {
      above: { tasks_canceled: 1, reservations_accepted: 0 },
      below: { tasks_canceled: 0, reservations_accepted: 1 },
    },
  },
};

describe('CumulativeStatistics', () => {
  it('counts a window of the log exactly, before and after its minutes are rolled', async () => {
    const s = await scenario();
    const window = `StartDate=${iso(START)}&EndDate=${iso(START + 10 * 60_000)}`;
    const read = async () => ({
      ws: await h.get(`/v1/Workspaces/${s.ws}/CumulativeStatistics?${window}&SplitByWaitTime=30`),
      queue: await h.get(`/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/CumulativeStatistics?${window}`),
      workflow: await h.get(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/CumulativeStatistics?${window}`),
      workers: await h.get(`/v1/Workspaces/${s.ws}/Workers/CumulativeStatistics?${window}`),
    });
    const before = await read();
    expect(before.ws).toMatchObject({ ...expectedWorkspace, start_time: iso(START), workspace_sid: s.ws });
    expect(before.ws.end_time).toBe(iso(clock.now())); // an end after now ends now
    expect(before.queue).toMatchObject({
      tasks_entered: 2,
      tasks_canceled: 1,
      reservations_accepted: 1,
      wait_duration_in_queue_until_accepted: { avg: 30, min: 30, max: 30, total: 30 },
      split_by_wait_time: null,
      task_queue_sid: s.queue,
    });
    expect(before.workflow).toMatchObject({ tasks_entered: 2, tasks_completed: 1, workflow_sid: s.workflow });
    expect(before.workers).toMatchObject({
      reservations_created: 2,
      reservations_accepted: 1,
      reservations_rejected: 1,
    });

    // Minutes closed and rolled: the same answers from the rollups (and the raw edges).
    clock.advance(10 * 60_000);
    expect(await t.services.statisticsRoller.rollOnce()).toBeGreaterThan(0);
    expect(await t.store.statisticsRolledUntil()).toBe(Math.floor((clock.now() - 5_000) / 60_000) * 60_000);
    const after = await read();
    expect(after.ws).toEqual({ ...before.ws, end_time: iso(START + 10 * 60_000) });
    expect(after.queue).toEqual({ ...before.queue, end_time: iso(START + 10 * 60_000) });
    expect(after.workflow).toEqual({ ...before.workflow, end_time: iso(START + 10 * 60_000) });
    // A roll with nothing new writes nothing.
    expect(await t.services.statisticsRoller.rollOnce()).toBe(0);
  });

  it("narrows by window, task channel and worker; times each worker's activities within the window", async () => {
    const s = await scenario();
    const end = clock.now();
    // Only task B's cancel in the last 30 s.
    const last = await h.get(`/v1/Workspaces/${s.ws}/CumulativeStatistics?StartDate=${iso(end - 30_000)}`);
    expect(last).toMatchObject({ tasks_created: 0, tasks_canceled: 1, reservations_created: 0 });
    const other = await h.post(`/v1/Workspaces/${s.ws}/TaskChannels`, {
      FriendlyName: 'Fax',
      UniqueName: 'fax',
    });
    const none = await h.get(
      `/v1/Workspaces/${s.ws}/CumulativeStatistics?Minutes=60&TaskChannel=${other.sid}`,
    );
    expect(none).toMatchObject({ tasks_created: 0, tasks_canceled: 0, reservations_created: 0 });
    const byName = await h.get(`/v1/Workspaces/${s.ws}/CumulativeStatistics?Minutes=60&TaskChannel=default`);
    expect(byName).toMatchObject({ tasks_created: 2, tasks_canceled: 1 });

    // ann: Available t0 to t0 + 50 s (the rejection moved her), Unavailable since.
    const mine = await h.get(
      `/v1/Workspaces/${s.ws}/Workers/${s.ann}/Statistics?StartDate=${iso(s.t0 + 20_000)}&EndDate=${iso(s.t0 + 80_000)}`,
    );
    expect(mine).toMatchObject({
      worker_sid: s.ann,
      cumulative: { reservations_created: 1, reservations_accepted: 1, reservations_rejected: 1 },
    });
    const durations = Object.fromEntries(
      (mine.cumulative.activity_durations as { friendly_name: string; total: number; avg: number }[]).map(
        (d) => [d.friendly_name, [d.total, d.avg]],
      ),
    );
    expect(durations).toEqual({ Offline: [0, 0], Available: [30, 30], Unavailable: [30, 30] });

    const all = await h.get(`/v1/Workspaces/${s.ws}/Workers/Statistics?Minutes=60`);
    expect(all.realtime).toMatchObject({ total_workers: 1 });
    expect(all.cumulative).toMatchObject({ reservations_created: 2 });
    const nobody = await h.get(`/v1/Workspaces/${s.ws}/Workers/Statistics?Minutes=60&FriendlyName=zed`);
    expect(nobody.realtime.total_workers).toBe(0);
    expect(nobody.cumulative.reservations_created).toBe(0);
    expect(nobody.cumulative.activity_durations.every((d: { total: number }) => d.total === 0)).toBe(true);
  });

  it('answers bad parameters and unknown resources as Twilio does', async () => {
    const s = await h.workspace();
    const bad = async (query: string, status = 400) => {
      const r = await t.request({ url: `/v1/Workspaces/${s.ws}/CumulativeStatistics?${query}` });
      expect(r.statusCode, r.body).toBe(status);
      expect(r.json()).toMatchObject({ status, code: expect.any(Number), more_info: expect.any(String) });
    };
    await bad('Minutes=0');
    await bad('Minutes=abc');
    await bad('StartDate=yesterday');
    await bad(`StartDate=${iso(clock.now() + 60_000)}&EndDate=${iso(clock.now())}`);
    await bad('SplitByWaitTime=10,x');
    await bad('TaskChannel=nope', 404);
    const missing = await t.request({
      url: `/v1/Workspaces/${s.ws}/TaskQueues/WQ${'0'.repeat(32)}/CumulativeStatistics`,
    });
    expect(missing.statusCode).toBe(404);
    const noWorker = await t.request({
      url: `/v1/Workspaces/${s.ws}/Workers/WK${'0'.repeat(32)}/Statistics`,
    });
    expect(noWorker.statusCode).toBe(404);
  });
});

describe('the roller, started', () => {
  it('rolls at start and when a commit finds a minute closed since', async () => {
    const s = await h.workspace();
    const roller = t.services.statisticsRoller;
    roller.start();
    await roller.idle();
    const first = await t.store.statisticsRolledUntil();
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{}' });
    await roller.idle();
    expect(await t.store.statisticsRolledUntil()).toBe(first); // no minute closed since
    clock.advance(3 * 60_000);
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{}' });
    await roller.idle();
    expect(await t.store.statisticsRolledUntil()).toBe(Math.floor((clock.now() - 5_000) / 60_000) * 60_000);
    await roller.stop();
    const stats = await h.get(`/v1/Workspaces/${s.ws}/CumulativeStatistics?Minutes=10`);
    expect(stats.tasks_created).toBe(2);
  });
});
