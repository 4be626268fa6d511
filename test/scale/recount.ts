import Database from 'better-sqlite3';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import type { ActivityCount } from '../../src/domain/types.js';
import type { NewWorker } from '../../src/services/ports/store.js';

/**
 * Statistics recounted from the workers themselves, straight from the SQLite file on a
 * connection of its own: what the kept counts must equal. O(workers), for tests only.
 */
export class Recounter {
  private readonly db: Database.Database;
  private readonly all: Database.Statement;
  private readonly byChannel: Database.Statement;
  private readonly total: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true });
    this.all = this.db.prepare(
      `SELECT a.sid, a.friendly_name,
              (SELECT count(*) FROM workers k WHERE k.activity_sid = a.sid) AS workers
         FROM activities a WHERE a.workspace_sid = ? ORDER BY a.id`,
    );
    this.byChannel = this.db.prepare(
      `SELECT a.sid, a.friendly_name,
              (SELECT count(*) FROM workers k LEFT JOIN worker_channels c
                  ON c.worker_sid = k.sid AND c.task_channel_sid = ?
                WHERE k.activity_sid = a.sid AND (c.worker_sid IS NULL OR (c.available = 1 AND c.capacity > 0)))
                AS workers
         FROM activities a WHERE a.workspace_sid = ? ORDER BY a.id`,
    );
    this.total = this.db.prepare('SELECT count(*) FROM workers WHERE workspace_sid = ?').pluck();
  }

  /** Per activity, in the order statistics list them; with a task channel SID, only eligible workers. */
  counts(workspaceSid: string, taskChannelSid?: string): ActivityCount[] {
    const rows = (
      taskChannelSid === undefined
        ? this.all.raw().all(workspaceSid)
        : this.byChannel.raw().all(taskChannelSid, workspaceSid)
    ) as [string, string, number][];
    return rows.map(([activitySid, friendlyName, workers]) => ({ activitySid, friendlyName, workers }));
  }

  /** The workspace's event log, oldest first. */
  events(workspaceSid: string): { type: string; resourceSid: string; data: Record<string, unknown> }[] {
    const rows = this.db
      .prepare('SELECT type, resource_sid, data FROM events WHERE workspace_sid = ? ORDER BY id')
      .all(workspaceSid) as { type: string; resource_sid: string; data: string }[];
    return rows.map((r) => ({
      type: r.type,
      resourceSid: r.resource_sid,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  totalWorkers(workspaceSid: string): number {
    return this.total.get(workspaceSid) as number;
  }

  close(): void {
    this.db.close();
  }
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/**
 * Workers for `StoreTx.insertWorkers`, as `roster seed` makes them: random activities, and a
 * random worker channel setting for each. Every SID made is pushed onto `workers`.
 */
export function bulkWorkers(
  random: () => number,
  scope: { accountSid: string; workspaceSid: string; activities: readonly string[]; workers: string[] },
) {
  const now = new Date();
  return {
    make: (count: number): NewWorker[] =>
      Array.from({ length: count }, () => {
        const sid = newSid(SidPrefix.worker);
        scope.workers.push(sid);
        return {
          sid,
          accountSid: scope.accountSid,
          workspaceSid: scope.workspaceSid,
          friendlyName: `bulk ${sid}`,
          activitySid: pick(random, scope.activities),
          attributes: '{}',
          now,
        };
      }),
    channelFor: () => ({ capacity: Math.floor(random() * 3), available: random() < 0.7 }),
  };
}
