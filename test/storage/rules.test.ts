import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { countWorkers } from '../../src/domain/statistics.js';
import type { Worker, WorkerChannel } from '../../src/domain/types.js';
import { applyWorkerChange, type WorkerChange } from '../../src/domain/workers.js';
import type { Page, PageQuery, Store } from '../../src/services/ports/store.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { pick, prng } from '../scale/recount.js';

/**
 * The stores keep statistics with triggers and change workers with a hand-written statement,
 * for speed. Here both are held to the domain's rules: after random writes, the kept counts
 * equal what `countWorkers` computes from the rows, and every update gives what
 * `applyWorkerChange` says.
 */
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_261_129);
const OPS = 300;

let dir: string;
let store: Store;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-rules-'));
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

describe(`the stores keep the domain's rules (${testBackend()}, seed ${SEED})`, () => {
  it('counts kept by triggers equal the counts the rule computes from the rows, and updates follow applyWorkerChange', async () => {
    const random = prng(SEED);
    const account = newSid(SidPrefix.account);
    const ws = newSid(SidPrefix.workspace);
    const activities = [0, 1, 2].map(() => newSid(SidPrefix.activity));
    const channels = [newSid(SidPrefix.taskChannel), newSid(SidPrefix.taskChannel)];
    let clock = Date.parse('2024-01-01T00:00:00Z');
    const tick = () => new Date((clock += 1000));
    const newChannel = (sid: string, uniqueName: string) => ({
      sid,
      accountSid: account,
      workspaceSid: ws,
      uniqueName,
      friendlyName: uniqueName,
      channelOptimizedRouting: false,
      now: tick(),
    });
    const setting = () => ({ capacity: Math.floor(random() * 3), available: random() < 0.6 });

    await store.transaction(async (tx) => {
      await tx.insertWorkspace({
        sid: ws,
        accountSid: account,
        friendlyName: 'Rules',
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
      for (const [i, sid] of channels.entries()) await tx.insertTaskChannel(newChannel(sid, `c${i}`));
    });

    const workers: string[] = [];
    let channelNames = 2;
    for (let op = 0; op < OPS; op++) {
      const roll = random();
      await store.transaction(async (tx) => {
        if (roll < 0.3 || workers.length === 0) {
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
            setting(),
          );
          workers.push(sid);
        } else if (roll < 0.6) {
          const sid = pick(random, workers);
          const before = (await tx.getWorker(ws, sid))!;
          const change: WorkerChange =
            random() < 0.8 ? { activitySid: pick(random, activities) } : { friendlyName: `R${op}` };
          const now = tick();
          const updated = await tx.updateWorker(sid, change, now, { accountSid: account, workspaceSid: ws });
          const expected = applyWorkerChange(before, change, now);
          // A change to what the worker has already changes no row: the store says so with null.
          expect(updated === null).toBe(expected === before);
          const after = updated ?? (await tx.getWorker(ws, sid))!;
          // The activity's name and availability are read from the activity, not decided by the rule;
          // an update also says the activity the worker was in before.
          expect(after).toEqual({
            ...expected,
            ...(updated
              ? {
                  previous: {
                    activitySid: before.activitySid,
                    activityName: updated.previous.activityName,
                    dateStatusChanged: before.dateStatusChanged,
                  },
                }
              : {}),
            activityName: after.activityName,
            available: after.available,
          });
        } else if (roll < 0.85) {
          const worker = pick(random, workers);
          const channel = pick(
            random,
            (await tx.listWorkerChannels(worker, { pageSize: 50, page: 0 })).items,
          );
          await tx.updateWorkerChannel(channel, setting(), tick());
        } else if (roll < 0.95) {
          const sid = workers.splice(Math.floor(random() * workers.length), 1)[0]!;
          await tx.deleteWorker(sid);
        } else if (roll < 0.98 || channels.length < 2) {
          const sid = newSid(SidPrefix.taskChannel);
          await tx.insertTaskChannel(newChannel(sid, `c${channelNames++}`));
          channels.push(sid);
        } else {
          await tx.deleteTaskChannel(channels.splice(Math.floor(random() * channels.length), 1)[0]!);
        }
      });
    }

    const activityRows = await all((p) => store.listActivities(ws, {}, p));
    const workerRows: Worker[] = await all((p) => store.listWorkers(ws, {}, p));
    const channelRows: WorkerChannel[] = [];
    for (const w of workerRows) channelRows.push(...(await all((p) => store.listWorkerChannels(w.sid, p))));
    expect(workerRows.map((w) => w.sid).sort()).toEqual([...workers].sort());
    expect(channelRows.length).toBe(workers.length * channels.length);

    for (const channel of [undefined, ...channels]) {
      const rule = countWorkers(activityRows, workerRows, channelRows, channel);
      expect(await store.activityCounts(ws, channel), `task channel ${channel ?? '(none)'}`).toEqual(rule);
    }
    // The random writes reached every kind of count.
    expect(countWorkers(activityRows, workerRows, channelRows, channels[0]).some((c) => c.workers > 0)).toBe(
      true,
    );
  });
});
