/**
 * Cumulative statistics' reads (issue 14: p99 < 50 ms on SQLite for a 15-minute and a 30-day
 * window with 10 million events in the log). Seeds a workspace's log with task lifecycles spread
 * evenly over 30 days (8 events each: workflow.entered, task-queue.entered, task.created,
 * reservation.created, reservation.accepted, the worker's worker.activity.update (it alternates
 * between two activities), task.completed, reservation.completed; 10 queues, 2 task channels, 100
 * workers), rolls every closed minute (timed), then reads Workspace, TaskQueue and Workers
 * CumulativeStatistics and a worker's Statistics (activity durations) through the app (inject: the
 * HTTP pipeline without sockets) over the last 15 minutes and the last 30 days, and reports
 * p50/p99 per read. SQLite only.
 *
 *   npx tsx bench/statistics-cumulative.ts [--events 1000000] [--days 30] [--reads 200] [--no-cumulative]
 *
 * Prints `RESULT {json}` last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { ManualClock } from '../src/domain/clock.js';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { createServices } from '../src/services/index.js';
import type { NewDomainEvent } from '../src/services/ports/store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const EVENTS = option('events', 1_000_000);
const READS = option('reads', 200);
/** Days the events are spread over (3 days of 1M events is 10M in 30 days' density per minute). */
const DAYS = option('days', 30);
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 1, 12, 0, 0);
const START = END - DAYS * DAY;

async function main() {
  if (process.argv.includes('--no-cumulative')) return;
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-cumulative-'));
  const store = SqliteStore.open({ path: join(dir, 'roster.db'), synchronous: 'NORMAL' });
  const clock = new ManualClock(START - 60_000);
  const services = createServices(store, { clock });
  const app = buildApp({ services, publicUrl: 'http://bench' });
  await app.ready();
  const accountSid = newSid(SidPrefix.account);
  const token = newAuthToken();
  await services.accounts.ensure(accountSid, token);
  const auth = 'Basic ' + Buffer.from(`${accountSid}:${token}`).toString('base64');
  const post = async (url: string, form: Record<string, string>) => {
    const r = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    if (r.statusCode >= 300) throw new Error(r.body);
    return r.json() as { sid: string };
  };
  const ws = (await post('/v1/Workspaces', { FriendlyName: 'bench' })).sid;
  const queues: string[] = [];
  for (let i = 0; i < 10; i++) {
    queues.push(
      (await post(`/v1/Workspaces/${ws}/TaskQueues`, { FriendlyName: `q${i}`, TargetWorkers: '1==1' })).sid,
    );
  }
  const workflow = newSid(SidPrefix.workflow);
  const listed = await app.inject({
    url: `/v1/Workspaces/${ws}/TaskChannels`,
    headers: { authorization: auth },
  });
  const channels = (listed.json() as { channels: { sid: string }[] }).channels.slice(0, 2).map((c) => c.sid);
  const workers: string[] = [];
  for (let i = 0; i < 100; i++)
    workers.push((await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: `w${i}` })).sid);
  const listedActivities = await app.inject({
    url: `/v1/Workspaces/${ws}/Activities`,
    headers: { authorization: auth },
  });
  const activities = (listedActivities.json() as { activities: { sid: string }[] }).activities
    .slice(0, 2)
    .map((a) => a.sid);
  /** Each worker's activity (index into `activities`) and since when. */
  const stints = new Map(workers.map((w) => [w, { activity: 0, since: clock.now() }]));

  // ---- seed
  const tasks = Math.ceil(EVENTS / 8);
  const step = (END - START) / tasks;
  const seedStarted = performance.now();
  let batch: NewDomainEvent[] = [];
  const flush = async () => {
    const events = batch;
    batch = [];
    await store.transaction((tx) => tx.appendEvents(events));
  };
  for (let i = 0; i < tasks; i++) {
    const created = Math.floor(START + i * step);
    const task = newSid(SidPrefix.task);
    const queue = queues[i % queues.length]!;
    const channel = channels[i % 2]!;
    const worker = workers[i % workers.length]!;
    const reservation = newSid(SidPrefix.reservation);
    const data = {
      task_sid: task,
      task_queue_sid: queue,
      workflow_sid: workflow,
      task_channel_sid: channel,
      task_queue_entered_date: new Date(created).toISOString(),
      age: 0,
    };
    const accepted = created + 1000 * (i % 120);
    const completed = accepted + 60_000;
    const e = (type: string, resourceType: string, resourceSid: string, timeMs: number, extra = {}) =>
      batch.push({
        type,
        accountSid,
        workspaceSid: ws,
        resourceType,
        resourceSid,
        actor: 'bench',
        timeMs,
        data: { ...data, ...extra },
      });
    e('workflow.entered', 'Workflow', workflow, created);
    e('task-queue.entered', 'TaskQueue', queue, created);
    e('task.created', 'Task', task, created);
    const r = { reservation_sid: reservation, worker_sid: worker };
    e('reservation.created', 'Reservation', reservation, created, r);
    e('reservation.accepted', 'Reservation', reservation, accepted, {
      ...r,
      task_age: (accepted - created) / 1000,
    });
    const stint = stints.get(worker)!;
    batch.push({
      type: 'worker.activity.update',
      accountSid,
      workspaceSid: ws,
      resourceType: 'Worker',
      resourceSid: worker,
      actor: 'bench',
      timeMs: accepted,
      data: {
        activity_sid: activities[1 - stint.activity],
        previous_activity_sid: activities[stint.activity],
        time_in_previous_activity_ms: accepted - stint.since,
      },
    });
    stints.set(worker, { activity: 1 - stint.activity, since: accepted });
    e('task.completed', 'Task', task, completed, { age: (completed - created) / 1000 });
    e('reservation.completed', 'Reservation', reservation, completed, r);
    if (batch.length >= 8_000) await flush();
  }
  await flush();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  // ---- roll
  clock.advance(END - clock.now());
  const rollStarted = performance.now();
  const rows = await services.statisticsRoller.rollOnce();
  const rollSeconds = (performance.now() - rollStarted) / 1000;

  // ---- read
  const read = async (url: string) => {
    const times: number[] = [];
    for (let i = 0; i < READS; i++) {
      const t0 = performance.now();
      const r = await app.inject({ url, headers: { authorization: auth } });
      times.push(performance.now() - t0);
      if (r.statusCode !== 200) throw new Error(r.body);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 10) / 10;
    return { p50: at(0.5), p99: at(0.99) };
  };
  const base = `/v1/Workspaces/${ws}`;
  const result = {
    events: tasks * 8,
    days: DAYS,
    seedSeconds: Math.round(seedSeconds),
    rollSeconds: Math.round(rollSeconds * 10) / 10,
    rollupRows: rows,
    workspace15m: await read(`${base}/CumulativeStatistics?Minutes=15&SplitByWaitTime=30,60`),
    workspace30d: await read(`${base}/CumulativeStatistics?Minutes=43200&SplitByWaitTime=30,60`),
    queue15m: await read(`${base}/TaskQueues/${queues[0]}/CumulativeStatistics?Minutes=15`),
    queue30d: await read(`${base}/TaskQueues/${queues[0]}/CumulativeStatistics?Minutes=43200`),
    workspace30dOneChannel: await read(
      `${base}/CumulativeStatistics?Minutes=43200&TaskChannel=${channels[0]}`,
    ),
    workers15m: await read(`${base}/Workers/CumulativeStatistics?Minutes=15`),
    workers30d: await read(`${base}/Workers/CumulativeStatistics?Minutes=43200`),
    worker30d: await read(`${base}/Workers/${workers[0]}/Statistics?Minutes=43200`),
  };
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`RESULT ${JSON.stringify(result)}`);
}

await main();
