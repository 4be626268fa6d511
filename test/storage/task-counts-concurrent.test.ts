import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { countTasks } from '../../src/domain/statistics.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { Page, PageQuery, Store } from '../../src/services/ports/store.js';
import { openPostgresTestStore, testBackend } from '../helpers/postgres.js';
import { pick, prng } from '../scale/recount.js';

/**
 * On PostgreSQL several connections (and nodes) write at once. Two stores on one schema, as two
 * nodes, move workers between activities, change their attributes, re-run a queue's membership
 * pass and create, accept and cancel tasks, all concurrently; afterwards every queue's members
 * per activity and every task count equal a recount. (The member triggers lock the workers they
 * read FOR SHARE: without that a move and a pass that cross lose a count.)
 */
const postgres = testBackend() === 'postgres';
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_261_131);

let nodes: { store: Store; services: Services }[] = [];
beforeAll(async () => {
  if (!postgres) return;
  const first = openPostgresTestStore();
  await first.ready();
  const second = openPostgresTestStore({ schema: first.schema });
  nodes = [first, second].map((store) => ({ store, services: createServices(store) }));
});
afterAll(async () => {
  for (const n of [...nodes].reverse()) await n.store.close();
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

describe.skipIf(!postgres)(`real-time counts under concurrent writers (two nodes, seed ${SEED})`, () => {
  it('equal a recount after concurrent moves, membership passes and task work', async () => {
    const random = prng(SEED);
    const [a] = nodes;
    const account = newSid(SidPrefix.account);
    await a!.services.accounts.ensure(account, newAuthToken());
    const ws = (await a!.services.workspaces.create(account, { friendlyName: 'Concurrent' })).sid;
    const activities = (await a!.store.listActivities(ws, {}, { pageSize: 10, page: 0 })).items.map(
      (x) => x.sid,
    );
    const queues: string[] = [];
    for (const [i, target] of ["team == 'a'", "team == 'b'", '1==1'].entries()) {
      queues.push(
        (await a!.services.taskQueues.create(account, ws, { friendlyName: `Q${i}`, targetWorkers: target }))
          .sid,
      );
    }
    const workflow = (
      await a!.services.workflows.create(account, ws, {
        friendlyName: 'F',
        configuration: JSON.stringify({
          task_routing: { filters: [], default_filter: { queue: queues[2] } },
        }),
      })
    ).sid;
    const workers: string[] = [];
    for (let i = 0; i < 60; i++) {
      const w = await a!.services.workers.create(account, ws, {
        friendlyName: `w${i}`,
        attributes: JSON.stringify({ team: i % 2 ? 'a' : 'b' }),
        activitySid: pick(random, activities),
      });
      workers.push(w.sid);
    }

    let refused = 0;
    // Each loop owns some workers (so that its own updates do not conflict), on either node.
    const loops = Array.from({ length: 6 }, (_, loop) => async () => {
      const node = nodes[loop % 2]!;
      const mine = workers.filter((_, i) => i % 6 === loop);
      for (let n = 0; n < 25; n++) {
        const r = random();
        const worker = pick(random, mine);
        try {
          if (r < 0.6) {
            await node.services.workers.update(
              account,
              ws,
              worker,
              { activitySid: pick(random, activities) },
              undefined,
            );
          } else if (r < 0.8) {
            await node.services.workers.update(
              account,
              ws,
              worker,
              { attributes: JSON.stringify({ team: random() < 0.5 ? 'a' : 'b' }) },
              undefined,
            );
          } else {
            await node.services.tasks.create(account, ws, { workflowSid: workflow, priority: n % 3 });
          }
        } catch (err) {
          // A routing conflict between nodes may be refused; the counts must stay exact either way.
          if (!(err instanceof Error)) throw err;
          refused++;
        }
      }
    });
    const passes = async () => {
      for (let n = 0; n < 6; n++) {
        await nodes[n % 2]!.services.taskQueues.update(account, ws, queues[n % 2]!, {
          targetWorkers: n % 4 < 2 ? "team == 'b'" : "team == 'a'",
        });
      }
    };
    await Promise.all([...loops.map((l) => l()), passes()]);

    const store = nodes[0]!.store;
    const activityRows = await all((p) => store.listActivities(ws, {}, p));
    for (const queue of queues) {
      const members = await all((p) => store.listWorkers(ws, { taskQueueSid: queue }, p));
      const expected = activityRows.map((x) => ({
        activitySid: x.sid,
        friendlyName: x.friendlyName,
        available: x.available,
        workers: members.filter((k) => k.activitySid === x.sid).length,
      }));
      expect(await store.queueActivityCounts(ws, queue), queue).toEqual(expected);
    }
    const tasks = await all((p) => store.listTasks(ws, {}, p));
    const byKey = (counts: readonly { status: string; priority: number; tasks: number }[]) =>
      Object.fromEntries(
        counts.filter((c) => c.tasks !== 0).map((c) => [`${c.status}|${c.priority}`, c.tasks]),
      );
    for (const scope of [ws, ...queues, workflow]) {
      const expected = countTasks(
        tasks,
        scope === ws ? {} : scope.startsWith('WQ') ? { taskQueueSid: scope } : { workflowSid: scope },
      );
      expect(byKey(await store.taskCounts(scope)), scope).toEqual(byKey(expected.counts));
    }
    expect(tasks.length).toBeGreaterThan(0);
    // Most of the work went through (the comparison is about writes that happened).
    expect(refused).toBeLessThan(15);
  });
});
