import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { DomainEvent } from '../../src/services/ports/store.js';
import type { TestApp } from '../helpers/app.js';
import { createRoutingApp, type routingHelpers } from '../helpers/routing.js';

/**
 * Cumulative statistics against a recount: seeded random routing (tasks on two channels routed
 * through two queues with a step timeout, reservations accepted, rejected and timing out, tasks
 * completed, canceled and deleted, workers moving, created and deleted) on a manual clock with
 * rolls at random moments; then random windows, each figure of every endpoint equal to one
 * recomputed here straight from the raw event list, written without the service's rollups,
 * window plan, facts or stint rules.
 */

let t: TestApp;
let clock: ManualClock;
let h: ReturnType<typeof routingHelpers>;

beforeAll(async () => {
  const made = await createRoutingApp(Date.UTC(2026, 2, 1, 8, 0, 0));
  ({ t, clock } = made);
  h = made;
});
afterAll(() => t.close());

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
type Data = Record<string, unknown>;

/** The recount: every figure of a window [start, end] (end included) from the events themselves. */
function recount(
  events: readonly DomainEvent[],
  ws: string,
  scope: { kind: 'workspace' | 'queue' | 'workflow' | 'worker'; sid: string },
  channel: string | undefined,
  start: number,
  end: number,
  thresholds: number[],
) {
  const n: Record<string, number> = {};
  const bump = (k: string) => (n[k] = (n[k] ?? 0) + 1);
  const accepted: number[] = [];
  const inQueue: number[] = [];
  const canceled: number[] = [];
  const entered = new Map<string, number>(); // task → when it entered its queue
  for (const e of events) {
    const d = e.data as Data;
    if (e.type === 'task-queue.entered' || e.type === 'task-queue.moved') {
      entered.set(d.task_sid as string, Date.parse(d.task_queue_entered_date as string));
    }
    if (e.timeMs < start || e.timeMs > end) continue;
    if (channel !== undefined && d.task_channel_sid !== channel) continue;
    const inScope = (() => {
      switch (scope.kind) {
        case 'workspace':
          return e.workspaceSid === ws;
        case 'queue':
          return d.task_queue_sid === scope.sid;
        case 'workflow':
          return d.workflow_sid === scope.sid;
        case 'worker':
          return d.worker_sid === scope.sid;
      }
    })();
    if (e.type === 'task-queue.entered' || e.type === 'task-queue.moved') {
      if (scope.kind === 'queue' && e.resourceSid === scope.sid) bump('tasks_entered');
    }
    if (e.type === 'workflow.entered' && scope.kind === 'workflow' && e.resourceSid === scope.sid) {
      bump('tasks_entered');
    }
    if (e.type === 'task-queue.moved') {
      const left = scope.kind === 'queue' ? d.task_queue_sid_previous === scope.sid : inScope;
      if (left && scope.kind !== 'worker') bump('tasks_moved');
      continue;
    }
    if (!inScope) continue;
    const simple: Record<string, string> = {
      'task.created': 'tasks_created',
      'task.completed': 'tasks_completed',
      'task.deleted': 'tasks_deleted',
      'workflow.timeout': 'tasks_timed_out_in_workflow',
      'reservation.created': 'reservations_created',
      'reservation.rejected': 'reservations_rejected',
      'reservation.timeout': 'reservations_timed_out',
      'reservation.canceled': 'reservations_canceled',
      'reservation.rescinded': 'reservations_rescinded',
    };
    if (simple[e.type] !== undefined) {
      if (!(scope.kind === 'worker' && !e.type.startsWith('reservation.'))) bump(simple[e.type]!);
    } else if (e.type === 'task.canceled' && scope.kind !== 'worker') {
      bump('tasks_canceled');
      canceled.push(d.age as number);
    } else if (e.type === 'reservation.accepted') {
      bump('reservations_accepted');
      accepted.push(d.task_age as number);
      const since = entered.get(d.task_sid as string);
      inQueue.push(since === undefined ? (d.task_age as number) : Math.floor((e.timeMs - since) / 1000));
    }
  }
  const durations = (xs: number[]) =>
    xs.length === 0
      ? { avg: 0, min: 0, max: 0, total: 0 }
      : {
          avg: Math.round(xs.reduce((a, b) => a + b, 0) / xs.length),
          min: Math.min(...xs),
          max: Math.max(...xs),
          total: xs.reduce((a, b) => a + b, 0),
        };
  const keys = [
    'tasks_created',
    'tasks_entered',
    'tasks_completed',
    'tasks_canceled',
    'tasks_deleted',
    'tasks_moved',
    'tasks_timed_out_in_workflow',
    'reservations_created',
    'reservations_accepted',
    'reservations_rejected',
    'reservations_timed_out',
    'reservations_canceled',
    'reservations_rescinded',
  ];
  const figures: Record<string, unknown> = Object.fromEntries(keys.map((k) => [k, n[k] ?? 0]));
  figures.wait_duration_until_accepted = durations(accepted);
  figures.avg_task_acceptance_time = durations(accepted).avg;
  figures.wait_duration_in_queue_until_accepted = durations(inQueue);
  figures.wait_duration_until_canceled = durations(canceled);
  figures.split_by_wait_time =
    thresholds.length === 0
      ? null
      : Object.fromEntries(
          thresholds.map((th) => [
            String(th),
            {
              above: {
                tasks_canceled: canceled.filter((w) => w > th).length,
                reservations_accepted: accepted.filter((w) => w > th).length,
              },
              below: {
                tasks_canceled: canceled.filter((w) => w <= th).length,
                reservations_accepted: accepted.filter((w) => w <= th).length,
              },
            },
          ]),
        );
  return figures;
}

/** Each worker's seconds in each activity within [start, end], from its whole event history. */
function recountDurations(
  events: readonly DomainEvent[],
  activities: readonly string[],
  start: number,
  end: number,
  now: number,
  worker?: string,
) {
  const spent = new Map<string, Map<string, number>>(); // activity → worker → ms
  const current = new Map<string, { activity: string; since: number }>();
  const close = (w: string, until: number) => {
    const c = current.get(w);
    if (!c) return;
    const ms = Math.min(until, end) - Math.max(c.since, start);
    if (ms > 0) {
      const byWorker = spent.get(c.activity) ?? new Map<string, number>();
      byWorker.set(w, (byWorker.get(w) ?? 0) + ms);
      spent.set(c.activity, byWorker);
    }
    current.delete(w);
  };
  for (const e of events) {
    if (e.resourceType !== 'Worker' || (worker !== undefined && e.resourceSid !== worker)) continue;
    const d = e.data as Data;
    if (e.type === 'worker.created')
      current.set(e.resourceSid, { activity: d.activity_sid as string, since: e.timeMs });
    if (e.type === 'worker.activity.update') {
      close(e.resourceSid, e.timeMs);
      current.set(e.resourceSid, { activity: d.activity_sid as string, since: e.timeMs });
    }
    if (e.type === 'worker.deleted') close(e.resourceSid, e.timeMs);
  }
  for (const w of [...current.keys()]) close(w, now);
  return activities.map((a) => {
    const secs = [...(spent.get(a)?.values() ?? [])].map((ms) => Math.floor(ms / 1000));
    return secs.length === 0
      ? { avg: 0, min: 0, max: 0, total: 0 }
      : {
          avg: Math.round(secs.reduce((x, y) => x + y, 0) / secs.length),
          min: Math.min(...secs),
          max: Math.max(...secs),
          total: secs.reduce((x, y) => x + y, 0),
        };
  });
}

async function randomRun(seed: number) {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const s = await h.workspace({ timeout: 60 });
  const second = (
    await h.post(`/v1/Workspaces/${s.ws}/TaskQueues`, { FriendlyName: 'Second', TargetWorkers: '1==1' })
  ).sid as string;
  await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, {
    Configuration: JSON.stringify({
      task_routing: {
        filters: [
          {
            filter_friendly_name: 'both',
            expression: '1==1',
            targets: [{ queue: s.queue, timeout: 40 }, { queue: second }],
          },
        ],
        default_filter: { queue: s.queue },
      },
    }),
  });
  const channels = (await h.get(`/v1/Workspaces/${s.ws}/TaskChannels`)).channels as {
    sid: string;
    unique_name: string;
  }[];
  const activities = [s.offline, s.idle, s.busy];
  const workers: string[] = [];
  for (let i = 0; i < 4; i++) workers.push(await h.worker(s, `w${i}`, pick(activities)!));
  const tasks: string[] = [];
  const start = clock.now();
  for (let step = 0; step < 200; step++) {
    if (step === 100 || step === 150) {
      // Into the next hour (then day), rolled: the hour (day) before gets its rollups.
      const span = step === 100 ? 3_600_000 : 86_400_000;
      clock.advance(span - (clock.now() % span) + 90_000);
      await t.services.statisticsRoller.rollOnce();
    }
    const r = rand();
    if (r < 0.25) {
      const channel = pick(['default', 'chat'])!;
      tasks.push(
        (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { TaskChannel: channel, Attributes: '{}' })).sid,
      );
    } else if (r < 0.5) {
      const task = pick(tasks);
      if (task === undefined) continue;
      const listed = await t.request({
        url: `/v1/Workspaces/${s.ws}/Tasks/${task}/Reservations?ReservationStatus=pending`,
      });
      if (listed.statusCode !== 200) continue;
      const pending = listed.json().reservations as { sid: string }[];
      const res = pick(pending);
      if (res === undefined) continue;
      await h.post(`/v1/Workspaces/${s.ws}/Tasks/${task}/Reservations/${res.sid}`, {
        ReservationStatus: rand() < 0.7 ? 'accepted' : 'rejected',
      });
    } else if (r < 0.65) {
      const task = pick(tasks);
      if (task === undefined) continue;
      const got = await t.request({ url: `/v1/Workspaces/${s.ws}/Tasks/${task}` });
      if (got.statusCode !== 200) continue;
      const status = got.json().assignment_status as string;
      const to =
        status === 'assigned' || status === 'wrapping'
          ? 'completed'
          : status === 'pending' || status === 'reserved'
            ? 'canceled'
            : undefined;
      if (to !== undefined)
        await h.post(`/v1/Workspaces/${s.ws}/Tasks/${task}`, { AssignmentStatus: to, Reason: 'random' });
    } else if (r < 0.7) {
      const task = pick(tasks);
      if (task === undefined) continue;
      await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Tasks/${task}` });
      tasks.splice(tasks.indexOf(task), 1);
    } else if (r < 0.82) {
      const w = pick(workers);
      if (w !== undefined)
        await h.post(`/v1/Workspaces/${s.ws}/Workers/${w}`, {
          ActivitySid: rand() < 0.5 ? s.idle : pick(activities)!,
        });
    } else if (r < 0.85) {
      workers.push(await h.worker(s, `w${step}`, pick(activities)!));
    } else if (r < 0.87) {
      const w = pick(workers);
      if (
        w !== undefined &&
        (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${s.ws}/Workers/${w}` })).statusCode === 204
      ) {
        workers.splice(workers.indexOf(w), 1);
      }
    } else if (r < 0.955) {
      clock.advance(1000 * Math.floor(rand() * 90));
    } else if (r < 0.97) {
      clock.advance(60_000 * Math.floor(10 + rand() * 30)); // hours complete, and get their rollups
    } else {
      await t.services.statisticsRoller.rollOnce();
    }
  }
  return { s, second, channels, activities, start, end: clock.now() };
}

describe.each([11, 2027])('cumulative statistics against a recount (seed %i)', (seed) => {
  it('every figure of random windows equals the recount of the raw log', async () => {
    const run = await randomRun(seed);
    const rand = mulberry32(seed * 7 + 1);
    const { s, second } = run;
    const events = await t.store.listEvents(s.ws, 0, 1_000_000);
    const span = run.end - run.start;
    const types = new Map<string, number>();
    for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    // The run is worth checking: rolled minutes, and the figures not all zero.
    expect(await t.store.statisticsRolledUntil()).toBeGreaterThan(run.start + 2 * 60_000);
    expect((await t.store.statisticsRollups([s.ws], undefined, 60, 0, 1e9)).length).toBeGreaterThan(0);
    expect((await t.store.statisticsRollups([s.ws], undefined, 1440, 0, 1e9)).length).toBeGreaterThan(0);
    for (const type of ['reservation.accepted', 'reservation.rejected', 'task.canceled', 'task.completed']) {
      expect(types.get(type), type).toBeGreaterThan(0);
    }
    const scopes = [
      { kind: 'workspace' as const, sid: s.ws, url: `/v1/Workspaces/${s.ws}/CumulativeStatistics` },
      {
        kind: 'queue' as const,
        sid: s.queue,
        url: `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/CumulativeStatistics`,
      },
      {
        kind: 'queue' as const,
        sid: second,
        url: `/v1/Workspaces/${s.ws}/TaskQueues/${second}/CumulativeStatistics`,
      },
      {
        kind: 'workflow' as const,
        sid: s.workflow,
        url: `/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/CumulativeStatistics`,
      },
    ];
    for (let i = 0; i < 12; i++) {
      // Windows of any length, minute-aligned or not, some ending after now (they end now).
      let a = run.start - 60_000 + Math.floor(rand() * (span + 120_000));
      let b = run.start - 60_000 + Math.floor(rand() * (span + 120_000));
      if (rand() < 0.3) a = Math.floor(a / 60_000) * 60_000;
      if (a > b) [a, b] = [b, a];
      a = Math.floor(a / 1000) * 1000;
      b = Math.floor(b / 1000) * 1000;
      // Windows that begin or end at an event's very time: both ends are in the window.
      const at = () => pick(events, rand)!.timeMs;
      if (rand() < 0.4) a = Math.min(at(), b);
      if (rand() < 0.4) b = Math.max(at(), a);
      const end = Math.min(b, clock.now());
      const channel = rand() < 0.3 ? pick(run.channels, rand) : undefined;
      const thresholds = rand() < 0.5 ? [Math.floor(rand() * 60), 30] : [];
      const query =
        `StartDate=${iso(a)}&EndDate=${iso(b)}` +
        (channel ? `&TaskChannel=${channel.unique_name}` : '') +
        (thresholds.length ? `&SplitByWaitTime=${thresholds.join(',')}` : '');
      for (const scope of scopes) {
        const got = await h.get(`${scope.url}?${query}`);
        const want = recount(events, s.ws, scope, channel?.sid, a, end, [...new Set(thresholds)]);
        for (const [key, value] of Object.entries(want)) {
          if (key in got) expect(got[key], `${scope.kind} ${key} ${query}`).toEqual(value);
        }
      }
      const workersGot = await h.get(
        `/v1/Workspaces/${s.ws}/Workers/CumulativeStatistics?${query.replace(/&SplitByWaitTime=[^&]*/, '')}`,
      );
      const reservations = recount(events, s.ws, scopes[0]!, channel?.sid, a, end, []);
      for (const key of Object.keys(reservations).filter((k) => k.startsWith('reservations_'))) {
        expect(workersGot[key], `workers ${key} ${query}`).toEqual(reservations[key]);
      }
      const durations = recountDurations(events, run.activities, a, end, clock.now());
      expect(
        (
          workersGot.activity_durations as {
            sid: string;
            avg: number;
            min: number;
            max: number;
            total: number;
          }[]
        ).map(({ avg, min, max, total }) => ({ avg, min, max, total })),
        `durations ${query}`,
      ).toEqual(durations);
      const worker = pick(
        events.filter((e) => e.type === 'worker.created').map((e) => e.resourceSid),
        rand,
      )!;
      const one = await t.request({
        url: `/v1/Workspaces/${s.ws}/Workers/${worker}/Statistics?StartDate=${iso(a)}&EndDate=${iso(b)}`,
      });
      if (one.statusCode === 404) continue; // deleted since
      expect(one.statusCode).toBe(200);
      const mine = one.json().cumulative as Record<string, unknown>;
      const wantMine = recount(events, s.ws, { kind: 'worker', sid: worker }, undefined, a, end, []);
      for (const key of Object.keys(wantMine).filter((k) => k.startsWith('reservations_'))) {
        expect(mine[key], `worker ${key}`).toEqual(wantMine[key]);
      }
      expect(
        (mine.activity_durations as { avg: number; min: number; max: number; total: number }[]).map(
          ({ avg, min, max, total }) => ({ avg, min, max, total }),
        ),
      ).toEqual(recountDurations(events, run.activities, a, end, clock.now(), worker));
    }
  });
});

function pick<T>(xs: readonly T[], rand: () => number): T | undefined {
  return xs[Math.floor(rand() * xs.length)];
}
