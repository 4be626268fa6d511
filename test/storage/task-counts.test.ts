import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { countTasks, type TaskScope } from '../../src/domain/statistics.js';
import { ACTIVE_TASK, TERMINAL } from '../../src/domain/tasks.js';
import type { Task, TaskStatus, Worker } from '../../src/domain/types.js';
import type { Page, PageQuery, Store } from '../../src/services/ports/store.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { pick, prng } from '../scale/recount.js';

/**
 * The real-time task and queue counts are kept by migration 012's triggers. Here they are held to
 * a recount from the rows after seeded random task work (creates, status, priority, queue and
 * channel changes, deletes) and worker work (moves, membership changes, deletes).
 */
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_261_130);
const OPS = 400;
const STATUSES: readonly TaskStatus[] = [...ACTIVE_TASK, ...TERMINAL];

let dir: string;
let store: Store;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-task-counts-'));
  store = openTestStore(dir);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function all<T>(list: (page: PageQuery) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | undefined;
  for (;;) {
    const page = await list({ pageSize: 1000, page: 0, pageToken });
    items.push(...page.items);
    if (page.nextPageToken === null) return items;
    pageToken = page.nextPageToken;
  }
}

const byKey = (counts: readonly { status: string; priority: number; tasks: number }[]) =>
  Object.fromEntries(
    counts.filter((c) => c.tasks !== 0).map((c) => [`${c.status}|${c.priority}`, c.tasks] as const),
  );

describe(`real-time counts kept by triggers equal a recount (${testBackend()}, seed ${SEED})`, () => {
  it('tasks by scope, channel, status and priority; longest waiting; queue members by activity', async () => {
    const random = prng(SEED);
    const account = newSid(SidPrefix.account);
    const ws = newSid(SidPrefix.workspace);
    const activities = [0, 1, 2].map(() => newSid(SidPrefix.activity));
    const channels = [0, 1].map(() => newSid(SidPrefix.taskChannel));
    const queues = [0, 1, 2].map(() => newSid(SidPrefix.taskQueue));
    const workflows = [0, 1].map(() => newSid(SidPrefix.workflow));
    let clock = Date.parse('2024-01-01T00:00:00Z');
    const tick = () => new Date((clock += 1000));

    await store.transaction(async (tx) => {
      await tx.insertWorkspace({
        sid: ws,
        accountSid: account,
        friendlyName: 'Counts',
        eventCallbackUrl: null,
        eventsFilter: null,
        multiTaskEnabled: true,
        prioritizeQueueOrder: 'FIFO',
        defaultActivitySid: activities[0]!,
        timeoutActivitySid: activities[0]!,
        now: tick(),
      });
      for (const [i, sid] of activities.entries()) {
        await tx.insertActivity({
          sid,
          accountSid: account,
          workspaceSid: ws,
          friendlyName: `A${i}`,
          available: i === 1,
          now: tick(),
        });
      }
      for (const [i, sid] of channels.entries()) {
        await tx.insertTaskChannel({
          sid,
          accountSid: account,
          workspaceSid: ws,
          uniqueName: `c${i}`,
          friendlyName: `c${i}`,
          channelOptimizedRouting: false,
          now: tick(),
        });
      }
      for (const [i, sid] of queues.entries()) {
        await tx.insertTaskQueue({
          sid,
          accountSid: account,
          workspaceSid: ws,
          friendlyName: `Q${i}`,
          targetWorkers: '1==1',
          readsWorkerFields: false,
          maxReservedWorkers: 1,
          taskOrder: 'FIFO',
          reservationActivitySid: null,
          assignmentActivitySid: null,
          now: tick(),
        });
      }
      for (const [i, sid] of workflows.entries()) {
        await tx.insertWorkflow({
          sid,
          accountSid: account,
          workspaceSid: ws,
          friendlyName: `F${i}`,
          configuration: '{"task_routing":{"filters":[]}}',
          assignmentCallbackUrl: null,
          fallbackAssignmentCallbackUrl: null,
          taskReservationTimeout: 120,
          now: tick(),
        });
      }
    });

    const tasks: string[] = [];
    const workers: string[] = [];
    const maybe = <T>(values: readonly T[]) => (random() < 0.2 ? null : pick(random, values));
    for (let op = 0; op < OPS; op++) {
      const roll = random();
      await store.transaction(async (tx) => {
        if (roll < 0.25 || tasks.length === 0) {
          const sid = newSid(SidPrefix.task);
          const now = tick();
          await tx.insertTask({
            sid,
            accountSid: account,
            workspaceSid: ws,
            attributes: '{}',
            requestedPriority: 0,
            priority: Math.floor(random() * 3),
            timeout: 3600,
            workflowSid: maybe(workflows),
            taskQueueSid: maybe(queues),
            taskChannelSid: pick(random, channels),
            routingTarget: null,
            ignoreCapacity: null,
            createdMs: now.getTime() - Math.floor(random() * 100_000),
            virtualStartMs: now.getTime(),
            queueEnteredMs: random() < 0.2 ? null : now.getTime() - Math.floor(random() * 100_000),
            now,
          });
          tasks.push(sid);
        } else if (roll < 0.55) {
          const sid = pick(random, tasks);
          const r = random();
          await tx.updateTask(
            sid,
            r < 0.6
              ? { assignmentStatus: pick(random, STATUSES) }
              : r < 0.75
                ? { priority: Math.floor(random() * 3) }
                : r < 0.9
                  ? { taskQueueSid: maybe(queues), queueEnteredMs: clock }
                  : { taskChannelSid: pick(random, channels) },
            tick(),
          );
        } else if (roll < 0.6) {
          await tx.deleteTask(tasks.splice(Math.floor(random() * tasks.length), 1)[0]!);
        } else if (roll < 0.72 || workers.length === 0) {
          const sid = newSid(SidPrefix.worker);
          await tx.insertWorker(
            {
              sid,
              accountSid: account,
              workspaceSid: ws,
              friendlyName: `W${op}`,
              activitySid: pick(random, activities),
              attributes: '{}',
              now: tick(),
            },
            { capacity: 1, available: true },
          );
          workers.push(sid);
        } else if (roll < 0.85) {
          const sid = pick(random, workers);
          await tx.updateWorker(sid, { activitySid: pick(random, activities) }, tick());
        } else if (roll < 0.94) {
          const sid = pick(random, workers);
          const evaluated = queues.filter(() => random() < 0.7);
          await tx.setWorkerMembership(
            ws,
            sid,
            evaluated,
            evaluated.filter(() => random() < 0.6),
          );
        } else if (roll < 0.97) {
          // A whole queue's pass: cleared, then refilled with some workers in one statement.
          const queue = pick(random, queues);
          await tx.clearQueueMembers(queue);
          const candidates = await tx.memberCandidates(ws, 0, 1000);
          await tx.addQueueMembers(
            ws,
            queue,
            candidates.filter(() => random() < 0.5),
          );
        } else {
          await tx.deleteWorker(workers.splice(Math.floor(random() * workers.length), 1)[0]!);
        }
      });
    }

    const taskRows: Task[] = await all((p) => store.listTasks(ws, {}, p));
    expect(taskRows.map((t) => t.sid).sort()).toEqual([...tasks].sort());
    // Ties in age are broken by creation order in the store; the recount gets the tasks in that order.
    const scopes: { sid: string; scope: TaskScope }[] = [
      { sid: ws, scope: {} },
      ...queues.map((q) => ({ sid: q, scope: { taskQueueSid: q } })),
      ...workflows.map((f) => ({ sid: f, scope: { workflowSid: f } })),
    ];
    for (const { sid, scope } of scopes) {
      for (const channel of [undefined, ...channels]) {
        const expected = countTasks(taskRows, { ...scope, taskChannelSid: channel });
        const label = `${sid} on ${channel ?? '(all)'}`;
        expect(byKey(await store.taskCounts(sid, channel)), label).toEqual(byKey(expected.counts));
        const waiting = {
          workspaceSid: ws,
          taskQueueSid: scope.taskQueueSid,
          workflowSid: scope.workflowSid,
          taskChannelSid: channel,
        };
        expect(await store.longestWaiting({ ...waiting, since: 'created' }), label).toEqual(
          expected.longestWaiting,
        );
        if (scope.taskQueueSid !== undefined) {
          expect(await store.longestWaiting({ ...waiting, since: 'queueEntered' }), label).toEqual(
            expected.longestInQueue,
          );
        }
      }
    }

    const activityRows = await all((p) => store.listActivities(ws, {}, p));
    for (const queue of queues) {
      const members: Worker[] = await all((p) => store.listWorkers(ws, { taskQueueSid: queue }, p));
      const expected = activityRows.map((a) => ({
        activitySid: a.sid,
        friendlyName: a.friendlyName,
        available: a.available,
        workers: members.filter((k) => k.activitySid === a.sid).length,
      }));
      expect(await store.queueActivityCounts(ws, queue), queue).toEqual(expected);
    }
    // The random work reached every kind of figure.
    expect(countTasks(taskRows, {}).longestWaiting).not.toBeNull();
    expect((await store.queueActivityCounts(ws, queues[0]!)).some((c) => c.workers > 0)).toBe(true);
  });
});
