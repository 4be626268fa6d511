import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../../src/domain/task-queues.js';
import type { Worker } from '../../src/domain/types.js';
import { MEMBERSHIP_TIMER } from '../../src/services/membership.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * A queue's create or TargetWorkers change evaluates the workspace's workers in chunks, each a
 * transaction of its own (2,000 workers): other writes are served between the chunks, the
 * write's answer waits for the last, and membership is exact once it has returned; a pass cut
 * short is finished by a durable timer. An activity's rename evaluates its workers against the
 * queues reading worker fields the same way.
 */
let t: TestApp;
let ws: string;
let base: string;
let defaultActivity: string;
let clock = new Date('2026-03-01T00:00:00Z');
const WORKERS = 4_500; // three chunks

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  const workspace = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Passes' } })
  ).json();
  ws = workspace.sid;
  defaultActivity = workspace.default_activity_sid;
  base = `/v1/Workspaces/${ws}`;
  await t.store.transaction((tx) =>
    tx.insertWorkers(
      ws,
      Array.from({ length: WORKERS }, (_, i) => ({
        sid: newSid(SidPrefix.worker),
        accountSid: t.account.sid,
        workspaceSid: ws,
        friendlyName: `W${i}`,
        activitySid: workspace.default_activity_sid,
        attributes: JSON.stringify({ n: i, level: i % 5 }),
        now: clock,
      })),
      () => ({ capacity: 1, available: true }),
    ),
  );
}, 60_000);
afterAll(() => t.close());

const post = (url: string, form: Record<string, string>) =>
  t.request({ method: 'POST', url: base + url, form });

async function allWorkers(): Promise<Worker[]> {
  const out: Worker[] = [];
  for (let pageToken: string | undefined; ;) {
    const page = await t.store.listWorkers(ws, {}, { pageSize: 1000, page: 0, pageToken });
    out.push(...page.items);
    if (!page.nextPageToken) return out;
    pageToken = page.nextPageToken;
  }
}

async function membersOf(queueSid: string): Promise<string[]> {
  const sids: string[] = [];
  for (let url: string | null = `${base}/Workers?TaskQueueSid=${queueSid}&PageSize=1000`; url;) {
    const res = await t.request({ url });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    sids.push(...body.workers.map((w: { sid: string }) => w.sid));
    url = body.meta.next_page_url ? body.meta.next_page_url.replace('http://roster.test', '') : null;
  }
  return sids.sort();
}

/** Every queue's members equal its TargetWorkers evaluated against every worker as it is now. */
async function expectRecounted(): Promise<void> {
  const workers = await allWorkers();
  const queues = (await t.store.listTaskQueues(ws, {}, { pageSize: 1000, page: 0 })).items;
  for (const q of queues) {
    const expression = compileTargetWorkers(q.targetWorkers);
    const expected = workers
      .filter((w) => matchesQueue(expression, workerDocument(w)))
      .map((w) => w.sid)
      .sort();
    const actual = await membersOf(q.sid);
    expect(actual.length, `${q.friendlyName}: ${q.targetWorkers}`).toBe(expected.length);
    expect(actual, `${q.friendlyName}: ${q.targetWorkers}`).toEqual(expected);
  }
}

describe("a queue's membership pass", () => {
  it('serves a worker write between its chunks, and is exact when the create returns', async () => {
    const workers = await allWorkers();
    const last = workers[workers.length - 1]!;
    const order: string[] = [];
    let update: Promise<unknown> | undefined;
    // Right after the create's own transaction commits (its event is out), before its first chunk.
    const stop = t.store.onEvents((events) => {
      if (!update && events.some((e) => e.type === 'task-queue.created')) {
        update = post(`/Workers/${last.sid}`, { Attributes: JSON.stringify({ level: 4, vip: true }) }).then(
          (res) => {
            expect(res.statusCode).toBe(200);
            order.push('worker update');
          },
        );
      }
    });
    const create = post('/TaskQueues', { FriendlyName: 'Seniors', TargetWorkers: 'level >= 3' }).then(
      (res) => {
        expect(res.statusCode, res.body).toBe(201);
        order.push('queue create');
        return res.json().sid as string;
      },
    );
    const queue = await create;
    stop();
    await update;
    expect(order).toEqual(['worker update', 'queue create']);
    const members = await membersOf(queue);
    expect(members).toContain(last.sid);
    await expectRecounted();
    // The pass finished: its backstop timer is gone.
    expect(await t.store.nextTimerDue()).toBeNull();
  });

  it('stays exact under concurrent queue changes and worker writes spanning the chunks', async () => {
    const workers = await allWorkers();
    const expressions = ['level >= 3', 'n < 2500', 'level IN [0, 4]', '1==1', '', 'vip == true', 'n > 4000'];
    const queues: string[] = [
      (await post('/TaskQueues', { FriendlyName: 'A', TargetWorkers: 'n < 10' })).json().sid,
      (await post('/TaskQueues', { FriendlyName: 'B', TargetWorkers: '1==1' })).json().sid,
    ];
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let round = 0; round < 4; round++) {
      const writes: Promise<{ statusCode: number; body: string }>[] = [];
      for (const q of queues) {
        writes.push(post(`/TaskQueues/${q}`, { TargetWorkers: expressions[next(expressions.length)]! }));
        writes.push(post(`/TaskQueues/${q}`, { TargetWorkers: expressions[next(expressions.length)]! }));
      }
      writes.push(
        post('/TaskQueues', {
          FriendlyName: `Q${round}`,
          TargetWorkers: expressions[next(expressions.length)]!,
        }),
      );
      for (let i = 0; i < 12; i++) {
        const w = workers[next(workers.length)]!;
        const attributes = JSON.stringify({ n: next(WORKERS), level: next(5), vip: next(2) === 0 });
        writes.push(post(`/Workers/${w.sid}`, { Attributes: attributes }));
      }
      writes.push(post('/Workers', { FriendlyName: `new${round}`, Attributes: '{"level": 4, "n": 4001}' }));
      const results = await Promise.all(writes);
      for (const r of results) expect(r.statusCode, r.body).toBeLessThan(300);
      await expectRecounted();
    }
  });

  it('is finished by its timer when the write could not finish it', async () => {
    const queue = (await post('/TaskQueues', { FriendlyName: 'Cut', TargetWorkers: 'level == 2' })).json()
      .sid;
    // As a write leaves it when it dies after its transaction: members stale, the timer due later.
    await t.store.transaction(async (tx) => {
      await tx.clearQueueMembers(queue);
      await tx.scheduleTimer({
        workspaceSid: ws,
        kind: MEMBERSHIP_TIMER,
        resourceSid: queue,
        dueAtMs: clock.getTime() + 60_000,
      });
    });
    expect(await membersOf(queue)).toEqual([]);
    expect(await t.services.timers.fireDue()).toBe(0);
    clock = new Date(clock.getTime() + 60_000);
    expect(await t.services.timers.fireDue()).toBe(1);
    await expectRecounted();
    expect(await t.store.nextTimerDue()).toBeNull();
  });
});

describe("an activity's rename pass", () => {
  const activities = async () =>
    (await t.request({ url: `${base}/Activities?PageSize=50` })).json().activities as {
      sid: string;
      friendly_name: string;
      available: boolean;
    }[];

  it('serves worker writes between its chunks, and is exact when the rename returns', async () => {
    await post('/TaskQueues', { FriendlyName: 'ByName', TargetWorkers: "activity_name == 'Resting'" });
    await post('/TaskQueues', { FriendlyName: 'NotByName', TargetWorkers: "activity_name != 'Resting'" });
    const other = (await activities()).find((a) => a.sid !== defaultActivity)!;
    const mover = (await post('/Workers', { FriendlyName: 'mover', ActivitySid: other.sid })).json().sid;
    const workers = (await allWorkers()).filter((w) => w.activitySid === defaultActivity);
    expect(workers.length).toBeGreaterThan(4_000); // three chunks
    const last = workers[workers.length - 1]!;
    const order: string[] = [];
    let writes: Promise<unknown> | undefined;
    // Right after the rename's own transaction commits, before its first chunk: one worker of
    // the activity leaves it, one enters it.
    const stop = t.store.onEvents((events) => {
      if (!writes && events.some((e) => e.type === 'activity.updated')) {
        writes = Promise.all([
          post(`/Workers/${last.sid}`, { ActivitySid: other.sid }),
          post(`/Workers/${mover}`, { ActivitySid: defaultActivity }),
        ]).then((res) => {
          for (const r of res) expect(r.statusCode, r.body).toBe(200);
          order.push('worker updates');
        });
      }
    });
    const rename = post(`/Activities/${defaultActivity}`, { FriendlyName: 'Resting' }).then((res) => {
      expect(res.statusCode, res.body).toBe(200);
      order.push('rename');
    });
    await rename;
    stop();
    await writes;
    expect(order).toEqual(['worker updates', 'rename']);
    await expectRecounted();
    expect(await t.store.nextTimerDue()).toBeNull();
  });

  it('stays exact under concurrent renames, worker moves and queue changes', async () => {
    const list = await activities();
    const workers = await allWorkers();
    const names = ['Resting', 'Idle', 'Away', 'Lunch'];
    const expressions = ["activity_name == 'Idle'", "activity_name IN ['Away', 'Lunch']", 'level >= 3'];
    const queue = (
      await post('/TaskQueues', { FriendlyName: 'Names', TargetWorkers: expressions[0]! })
    ).json().sid;
    let seed = 11;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let round = 0; round < 4; round++) {
      const writes: Promise<{ statusCode: number; body: string }>[] = [];
      writes.push(post(`/Activities/${defaultActivity}`, { FriendlyName: names[next(names.length)]! }));
      writes.push(post(`/Activities/${defaultActivity}`, { FriendlyName: names[next(names.length)]! }));
      writes.push(post(`/TaskQueues/${queue}`, { TargetWorkers: expressions[next(expressions.length)]! }));
      for (let i = 0; i < 10; i++) {
        const w = workers[next(workers.length)]!;
        writes.push(post(`/Workers/${w.sid}`, { ActivitySid: list[next(list.length)]!.sid }));
      }
      const results = await Promise.all(writes);
      // Two renames may race for a name another activity holds: a conflict is a fine answer.
      for (const r of results) expect([200, 201, 409], r.body).toContain(r.statusCode);
      await expectRecounted();
    }
    expect(await t.store.nextTimerDue()).toBeNull();
  });

  it('is finished by its timer when the rename could not finish it', async () => {
    // As a rename leaves it when the process dies after its transaction: the name changed,
    // members as they were for the old one, the timer due later.
    await t.store.transaction(async (tx) => {
      await tx.updateActivity(defaultActivity, 'Elsewhere', clock);
      await tx.scheduleTimer({
        workspaceSid: ws,
        kind: MEMBERSHIP_TIMER,
        resourceSid: defaultActivity,
        dueAtMs: clock.getTime() + 60_000,
      });
    });
    await expect(expectRecounted()).rejects.toThrow();
    expect(await t.services.timers.fireDue()).toBe(0);
    clock = new Date(clock.getTime() + 60_000);
    expect(await t.services.timers.fireDue()).toBe(1);
    await expectRecounted();
    expect(await t.store.nextTimerDue()).toBeNull();
  });
});
