import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { ActivityCount } from '../../src/domain/types.js';
import type { Reclaim, Store } from '../../src/services/ports/store.js';
import { createServices } from '../../src/services/index.js';
import { createTestApp, openTestStore, type TestApp } from '../helpers/app.js';
import { requireTestDatabaseUrl, schemaForDir, testBackend } from '../helpers/postgres.js';
import { expectMatchesSpec } from '../helpers/spec.js';
import { bulkWorkers, prng } from './recount.js';

/**
 * Large administrative writes on a big workspace (sized for CI) never hold up other requests
 * for more than a batch of their work: task channel create writes no row per worker; task
 * channel, workspace and activity delete answer at once and leave what is large to the
 * reclaimer, which deletes it a batch at a time, yielding in between; an activity's rename
 * evaluates its workers' queue membership a chunk at a time. Meanwhile a reader asks
 * for another workspace's statistics in a loop; every answer equals a recount, and the
 * reclaimer's batches and the reads interleave (counted, not timed).
 */
const WORKERS = 20_000;
const BATCH = 1_000;
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_261_129);

/** Statistics recounted from the rows, on a connection of its own (O(workers), for tests). */
interface Recount {
  counts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]>;
  /** Rows of a table whose `column` equals `value`. */
  rows(table: string, column: string, value: string): Promise<number>;
  close(): Promise<void>;
}

const RECOUNT = (p: (i: number) => string) => `
  SELECT a.sid, a.friendly_name,
         (SELECT count(*) FROM workers k LEFT JOIN worker_channels c
             ON c.worker_sid = k.sid AND c.task_channel_sid = ${p(1)}
           WHERE k.activity_sid = a.sid
             AND (${p(1)} IS NULL OR c.worker_sid IS NULL OR (c.available AND c.capacity > 0))) AS workers
    FROM activities a WHERE a.workspace_sid = ${p(2)} ORDER BY a.id`;

async function openRecount(dir: string): Promise<Recount> {
  const toCounts = (rows: { sid: string; friendly_name: string; workers: unknown }[]) =>
    rows.map((r) => ({ activitySid: r.sid, friendlyName: r.friendly_name, workers: Number(r.workers) }));
  if (testBackend() === 'sqlite') {
    const db = new Database(join(dir, 'roster.db'), { readonly: true });
    const counts = db.prepare(RECOUNT((i) => (i === 1 ? '@channel' : '@workspace')));
    return {
      counts: async (ws, channel) =>
        toCounts(
          counts.all({ channel: channel ?? null, workspace: ws }) as {
            sid: string;
            friendly_name: string;
            workers: number;
          }[],
        ),
      rows: async (table, column, value) =>
        db.prepare(`SELECT count(*) FROM ${table} WHERE ${column} = ?`).pluck().get(value) as number,
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({
    connectionString: requireTestDatabaseUrl(),
    options: `-c search_path=${schemaForDir(dir)}`,
  });
  await client.connect();
  return {
    counts: async (ws, channel) =>
      toCounts(
        (
          await client.query(
            RECOUNT((i) => `$${i}::text`),
            [channel ?? null, ws],
          )
        ).rows,
      ),
    rows: async (table, column, value) =>
      Number(
        (await client.query(`SELECT count(*) AS n FROM ${table} WHERE ${column} = $1`, [value])).rows[0].n,
      ),
    close: () => client.end(),
  };
}

let t: TestApp;
let recount: Recount;
const clock = new ManualClock(Date.UTC(2026, 10, 29));
/** Batches the reclaimer has committed, and whether each left more to do. */
const batches: { reclaim: Reclaim; more: boolean }[] = [];
let big: string;
let small: string;
let bigChannels: Record<string, string>;
let smallChannels: Record<string, string>;

async function post(url: string, form: Record<string, string>) {
  const res = await t.request({ method: 'POST', url, form });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as Record<string, unknown>;
}

async function channelsOf(ws: string): Promise<Record<string, string>> {
  const res = await t.request({ url: `/v1/Workspaces/${ws}/TaskChannels?PageSize=50` });
  const list = res.json() as { channels: { sid: string; unique_name: string }[] };
  return Object.fromEntries(list.channels.map((c) => [c.unique_name, c.sid]));
}

/** The statistics of `ws` (optionally of one task channel), checked against the spec and a recount. */
async function expectExactStatistics(ws: string, channel?: string): Promise<void> {
  const res = await t.request({
    url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel}` : ''}`,
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as {
    total_workers: number;
    activity_statistics: { sid: string; workers: number }[];
  };
  expectMatchesSpec('FetchWorkersRealTimeStatistics', 200, body);
  const expected = await recount.counts(ws, channel);
  expect(body.activity_statistics.map((a) => [a.sid, a.workers])).toEqual(
    expected.map((c) => [c.activitySid, c.workers]),
  );
  expect(body.total_workers).toBe(expected.reduce((sum, c) => sum + c.workers, 0));
}

/**
 * Reads `small`'s statistics (all workers, and by task channel) in a loop while `operation`
 * runs and until the reclaimer is idle; returns, for each read, how many batches committed
 * while it was under way.
 */
async function readWhile(
  operation: () => Promise<void>,
  progress: () => number = () => batches.length,
): Promise<{ reads: number; batchesPerRead: number[] }> {
  let done = false;
  const batchesPerRead: number[] = [];
  const reader = (async () => {
    while (!done) {
      const before = progress();
      await expectExactStatistics(small);
      await expectExactStatistics(small, smallChannels.voice);
      batchesPerRead.push(progress() - before);
      // The next request arrives as a client's would, through the event loop (inject alone
      // may answer from memory in microtasks, never letting anything else run).
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  try {
    await operation();
    await t.services.reclaimer.idle();
  } finally {
    done = true;
    await reader;
  }
  return { reads: batchesPerRead.length, batchesPerRead };
}

beforeAll(async () => {
  t = await createTestApp({
    twilioLimits: false,
    serviceOptions: {
      clock,
      reclaimer: { batchSize: BATCH, onBatch: (reclaim, more) => batches.push({ reclaim, more }) },
    },
  });
  recount = await openRecount(t.dir);
  small = (await post('/v1/Workspaces', { FriendlyName: 'Small' })).sid as string;
  big = (await post('/v1/Workspaces', { FriendlyName: 'Big' })).sid as string;
  smallChannels = await channelsOf(small);
  bigChannels = await channelsOf(big);

  // The small workspace: a few workers over its activities, one with a voice channel unavailable.
  const smallActivities = (
    (await t.request({ url: `/v1/Workspaces/${small}/Activities` })).json() as {
      activities: { sid: string }[];
    }
  ).activities.map((a) => a.sid);
  for (let i = 0; i < 6; i++) {
    const w = await post(`/v1/Workspaces/${small}/Workers`, {
      FriendlyName: `w${i}`,
      ActivitySid: smallActivities[i % smallActivities.length]!,
    });
    if (i === 1)
      await post(`/v1/Workspaces/${small}/Workers/${w.sid}/Channels/voice`, { Available: 'false' });
  }

  // The big one, loaded in bulk: every worker's chat channel deviates (so deleting chat leaves a
  // row per worker to reclaim), a few of its voice channels too.
  const bigActivities = (
    (await t.request({ url: `/v1/Workspaces/${big}/Activities` })).json() as { activities: { sid: string }[] }
  ).activities.map((a) => a.sid);
  const random = prng(SEED);
  const { make } = bulkWorkers(random, {
    accountSid: t.account.sid,
    workspaceSid: big,
    activities: bigActivities,
    workers: [],
  });
  const channelFor = (_: unknown, c: { uniqueName: string }) =>
    c.uniqueName === 'chat'
      ? { capacity: 2, available: random() < 0.5 }
      : c.uniqueName === 'voice' && random() < 0.1
        ? { capacity: 0, available: true }
        : { capacity: 1, available: true };
  for (let i = 0; i < WORKERS; i += 5_000) {
    const chunk = make(5_000);
    await t.store.transaction((tx) => tx.insertWorkers(big, chunk, channelFor));
  }
  await t.services.reclaimer.start();
}, 120_000);

afterAll(async () => {
  await t.services.reclaimer.stop();
  await recount.close();
  await t.close();
});

describe(`No operation on a big workspace holds up other requests (${testBackend()})`, () => {
  it('creates a task channel without a row per worker', async () => {
    let created: Record<string, unknown> = {};
    const { reads } = await readWhile(async () => {
      created = await post(`/v1/Workspaces/${big}/TaskChannels`, {
        FriendlyName: 'Email',
        UniqueName: 'email',
      });
    });
    expect(reads).toBeGreaterThan(0);
    expect(await recount.rows('worker_channels', 'task_channel_sid', created.sid as string)).toBe(0);
    // Every worker has it, with the defaults, and it counts them all.
    const total = (await recount.counts(big)).reduce((s, c) => s + c.workers, 0);
    expect(total).toBe(WORKERS);
    await expectExactStatistics(big, created.sid as string);
    const first = (
      (await t.request({ url: `/v1/Workspaces/${big}/Workers?PageSize=1` })).json() as {
        workers: { sid: string }[];
      }
    ).workers[0]!.sid;
    const wc = (await t.request({ url: `/v1/Workspaces/${big}/Workers/${first}/Channels/email` })).json() as {
      sid: string;
      configured_capacity: number;
      available: boolean;
    };
    expect(wc).toMatchObject({ configured_capacity: 1, available: true });
    // The same SID at every read, by unique name or by its own SID.
    const again = await t.request({ url: `/v1/Workspaces/${big}/Workers/${first}/Channels/${wc.sid}` });
    expect(again.json()).toMatchObject({ sid: wc.sid });
  });

  it('deletes a task channel at once and reclaims its worker channels in batches', async () => {
    const chat = bigChannels.chat!;
    expect(await recount.rows('worker_channels', 'task_channel_sid', chat)).toBe(WORKERS);
    await expectExactStatistics(big, chat);
    batches.length = 0;
    const { reads, batchesPerRead } = await readWhile(async () => {
      const res = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${big}/TaskChannels/${chat}` });
      expect(res.statusCode).toBe(204);
      // Gone at once, while its rows are still there.
      expect((await t.request({ url: `/v1/Workspaces/${big}/TaskChannels/${chat}` })).statusCode).toBe(404);
      const stats = await t.request({
        url: `/v1/Workspaces/${big}/Workers/RealTimeStatistics?TaskChannel=${chat}`,
      });
      expect(stats.statusCode).toBe(404);
      await expectExactStatistics(big);
      await expectExactStatistics(big, bigChannels.voice);
    });
    // Chunked: many batches, and reads went on between them (none waited for more than a batch or two).
    const own = batches.filter((b) => b.reclaim.sid === chat);
    expect(own.length).toBeGreaterThanOrEqual(WORKERS / BATCH);
    expect(own.at(-1)!.more).toBe(false);
    expect(reads).toBeGreaterThan(own.length / 2);
    expect(Math.max(...batchesPerRead)).toBeLessThanOrEqual(2);
    expect(await recount.rows('worker_channels', 'task_channel_sid', chat)).toBe(0);
    expect(await recount.rows('channel_activity_unavailable', 'task_channel_sid', chat)).toBe(0);
    expect(await t.store.pendingReclaims()).toEqual([]);
    await expectExactStatistics(big);
    await expectExactStatistics(big, bigChannels.voice);
  });

  it('deletes an activity at once, with nothing left to reclaim', async () => {
    const spare = (await post(`/v1/Workspaces/${big}/Activities`, { FriendlyName: 'Spare' })).sid as string;
    batches.length = 0;
    const { reads } = await readWhile(async () => {
      const res = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${big}/Activities/${spare}` });
      expect(res.statusCode).toBe(204);
      expect((await t.request({ url: `/v1/Workspaces/${big}/Activities/${spare}` })).statusCode).toBe(404);
    });
    expect(reads).toBeGreaterThan(0);
    expect(batches).toEqual([]);
    await expectExactStatistics(big);
    await expectExactStatistics(big, bigChannels.voice);
  });

  it("renames an activity in chunks of its workers' membership, reads going on between them", async () => {
    const queue = (
      await post(`/v1/Workspaces/${big}/TaskQueues`, {
        FriendlyName: 'Resting',
        TargetWorkers: "activity_name == 'Resting'",
      })
    ).sid as string;
    const busiest = (await recount.counts(big)).reduce((a, b) => (b.workers > a.workers ? b : a));
    expect(busiest.workers).toBeGreaterThan(4_000);
    const queueStatistics = async () =>
      (await t.request({ url: `/v1/Workspaces/${big}/TaskQueues/${queue}/RealTimeStatistics` })).json() as {
        total_eligible_workers: number;
      };
    expect((await queueStatistics()).total_eligible_workers).toBe(0);
    // Each chunk of the pass is a transaction of its own: count their commits.
    let commits = 0;
    const store = t.store as { transaction: Store['transaction'] };
    const transaction = store.transaction.bind(t.store);
    store.transaction = async (work) => {
      const result = await transaction(work);
      commits++;
      return result;
    };
    try {
      const { reads, batchesPerRead } = await readWhile(
        async () => {
          await post(`/v1/Workspaces/${big}/Activities/${busiest.activitySid}`, { FriendlyName: 'Resting' });
        },
        () => commits,
      );
      // The rename's own transaction and a chunk per 2,000 of its workers.
      expect(commits).toBeGreaterThanOrEqual(1 + Math.ceil(busiest.workers / 2_000));
      expect(reads).toBeGreaterThan(commits / 2);
      expect(Math.max(...batchesPerRead)).toBeLessThanOrEqual(2);
    } finally {
      store.transaction = transaction;
    }
    expect((await queueStatistics()).total_eligible_workers).toBe(busiest.workers);
    expect(await t.store.nextTimerDue()).toBeNull();
    await expectExactStatistics(big);
    await expectExactStatistics(big, bigChannels.voice);
  });

  it('deletes a workspace at once and reclaims its workers in batches', async () => {
    const worker = (
      (await t.request({ url: `/v1/Workspaces/${big}/Workers?PageSize=1` })).json() as {
        workers: { sid: string }[];
      }
    ).workers[0]!.sid;
    batches.length = 0;
    const { reads, batchesPerRead } = await readWhile(async () => {
      const res = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${big}` });
      expect(res.statusCode).toBe(204);
      expect((await t.request({ url: `/v1/Workspaces/${big}` })).statusCode).toBe(404);
      expect((await t.request({ url: `/v1/Workspaces/${big}/Workers/${worker}` })).statusCode).toBe(404);
      expect((await t.request({ url: `/v1/Workspaces/${big}/Workers/RealTimeStatistics` })).statusCode).toBe(
        404,
      );
    });
    const own = batches.filter((b) => b.reclaim.sid === big);
    expect(own.length).toBeGreaterThanOrEqual(WORKERS / BATCH);
    expect(reads).toBeGreaterThan(own.length / 2);
    expect(Math.max(...batchesPerRead)).toBeLessThanOrEqual(2);
    for (const table of ['workers', 'activities', 'task_channels']) {
      expect(await recount.rows(table, 'workspace_sid', big), table).toBe(0);
    }
    expect(await recount.rows('worker_channels', 'worker_sid', worker)).toBe(0);
    expect(await t.store.pendingReclaims()).toEqual([]);
    await expectExactStatistics(small);
  });
});

describe(`The reclaimer after a crash between batches (${testBackend()})`, () => {
  it('goes on where it stopped on restart: nothing lost, nothing visible', async () => {
    const dir = t.dir;
    // A workspace of its own, deleted; the reclaimer stops after two batches, as at a crash
    // (each batch is a transaction of its own: what committed stays, the rest is still marked).
    const doomed = (await post('/v1/Workspaces', { FriendlyName: 'Doomed' })).sid as string;
    const activities = (
      (await t.request({ url: `/v1/Workspaces/${doomed}/Activities` })).json() as {
        activities: { sid: string }[];
      }
    ).activities.map((a) => a.sid);
    const { make } = bulkWorkers(prng(SEED + 1), {
      accountSid: t.account.sid,
      workspaceSid: doomed,
      activities,
      workers: [],
    });
    const loaded = make(5 * BATCH);
    await t.store.transaction((tx) =>
      tx.insertWorkers(doomed, loaded, (_, c) =>
        c.uniqueName === 'voice' ? { capacity: 0, available: false } : { capacity: 1, available: true },
      ),
    );
    await t.services.reclaimer.stop();
    batches.length = 0;
    const stopper = createServices(t.store, {
      clock,
      reclaimer: {
        batchSize: BATCH,
        onBatch: (reclaim, more) => {
          batches.push({ reclaim, more });
          if (batches.length === 2) void stopper.reclaimer.stop();
        },
      },
    });
    expect((await t.request({ method: 'DELETE', url: `/v1/Workspaces/${doomed}` })).statusCode).toBe(204);
    await stopper.reclaimer.start();
    await stopper.reclaimer.idle();
    expect(batches).toHaveLength(2);
    expect(batches.every((b) => b.more)).toBe(true);
    expect(await recount.rows('workers', 'workspace_sid', doomed)).toBe(3 * BATCH);
    expect((await t.request({ url: `/v1/Workspaces/${doomed}` })).statusCode).toBe(404);
    await expectExactStatistics(small);

    // Restart: a new store on the same data, a new reclaimer that finds the mark and finishes.
    const reopened: Store = openTestStore(dir);
    try {
      const [pending] = await reopened.pendingReclaims();
      expect(pending).toMatchObject({ kind: 'workspace', sid: doomed });
      const restarted = createServices(reopened, { clock, reclaimer: { batchSize: BATCH } });
      await restarted.reclaimer.start();
      await restarted.reclaimer.stop();
      expect(await reopened.pendingReclaims()).toEqual([]);
    } finally {
      await reopened.close();
    }
    for (const w of loaded) expect(await t.store.getWorker(doomed, w.sid)).toBeNull();
    for (const table of ['workers', 'activities', 'task_channels']) {
      expect(await recount.rows(table, 'workspace_sid', doomed), table).toBe(0);
    }
    expect(await recount.rows('worker_channels', 'worker_sid', loaded[0]!.sid)).toBe(0);
    await expectExactStatistics(small);
    await expectExactStatistics(small, smallChannels.voice);
  });
});
