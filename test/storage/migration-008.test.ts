import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { workerChannelSid } from '../../src/domain/worker-channels.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import pg from 'pg';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { sqliteStoreBefore } from '../helpers/migrations.js';
import { dropSchema, newSchemaName, requireTestDatabaseUrl, testBackend } from '../helpers/postgres.js';

/**
 * Migration 008 on a store written by the schema before it (a row per worker channel): the
 * rows at the defaults go, the others stay with their values, and the statistics by task
 * channel come out the same as the old counts said.
 */
const dir = mkdtempSync(join(tmpdir(), 'roster-migration-008-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(testBackend() === 'sqlite')('SQLite migration 008 (worker channel deviations)', () => {
  it('keeps only deviating worker channels, with the same statistics', async () => {
    const path = join(dir, 'roster.db');
    const db = sqliteStoreBefore(path, '008');
    const at = '2026-01-01T00:00:00Z';
    const account = newSid(SidPrefix.account);
    const ws = newSid(SidPrefix.workspace);
    const activities = [newSid(SidPrefix.activity), newSid(SidPrefix.activity)];
    const channels = [newSid(SidPrefix.taskChannel), newSid(SidPrefix.taskChannel)];
    db.prepare(
      `INSERT INTO workspaces (sid, account_sid, friendly_name, multi_task_enabled, prioritize_queue_order,
         default_activity_sid, timeout_activity_sid, date_created, date_updated) VALUES (?, ?, 'W', 1, 'FIFO', ?, ?, ?, ?)`,
    ).run(ws, account, activities[0], activities[0], at, at);
    activities.forEach((sid, i) =>
      db
        .prepare(
          `INSERT INTO activities (sid, account_sid, workspace_sid, friendly_name, name_key, available, date_created, date_updated)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(sid, account, ws, `A${i}`, `a${i}`, i, at, at),
    );
    channels.forEach((sid, i) =>
      db
        .prepare(
          `INSERT INTO task_channels (sid, account_sid, workspace_sid, unique_name, friendly_name, channel_optimized_routing,
             date_created, date_updated) VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
        )
        .run(sid, account, ws, `c${i}`, `C${i}`, at, at),
    );
    // Six workers, every one with a channel row per task channel; a few of them deviate.
    const settings: Record<string, [number, number]> = {
      '0:0': [1, 0],
      '1:0': [0, 1],
      '2:1': [2, 1],
      '3:1': [0, 0],
    };
    const workers: string[] = [];
    for (let k = 0; k < 6; k++) {
      const sid = newSid(SidPrefix.worker);
      workers.push(sid);
      db.prepare(
        `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes, version,
           date_created, date_updated, date_status_changed) VALUES (?, ?, ?, ?, ?, ?, '{}', 0, ?, ?, ?)`,
      ).run(sid, account, ws, `w${k}`, `w${k}`, activities[k % 2], at, at, at);
      channels.forEach((c, i) => {
        const [capacity, available] = settings[`${k}:${i}`] ?? [1, 1];
        db.prepare(
          `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
             date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          newSid(SidPrefix.workerChannel),
          account,
          ws,
          sid,
          c,
          capacity,
          available,
          at,
          '2026-02-01T00:00:00Z',
        );
      });
    }
    const oldCounts = channels.map((c) =>
      activities.map(
        (a) =>
          (db
            .prepare(
              'SELECT workers FROM channel_activity_counts WHERE task_channel_sid = ? AND activity_sid = ?',
            )
            .pluck()
            .get(c, a) as number | undefined) ?? 0,
      ),
    );
    db.close();

    const store = SqliteStore.open({ path });
    try {
      for (const [i, c] of channels.entries()) {
        expect(
          (await store.activityCounts(ws, c)).map((x) => x.workers),
          `channel ${i}`,
        ).toEqual(oldCounts[i]);
      }
      expect(oldCounts).toEqual([
        [2, 2],
        [3, 2],
      ]);
      const check = new Database(path, { readonly: true });
      expect(check.prepare('SELECT count(*) FROM worker_channels').pluck().get()).toBe(4);
      check.close();
      const page = { pageSize: 50, page: 0 };
      expect(
        (await store.listWorkerChannels(workers[2]!, page)).items.map((c) => [c.capacity, c.available]),
      ).toEqual([
        [1, true],
        [2, true],
      ]);
      const kept = (await store.getWorkerChannel(workers[3]!, 'c1'))!;
      expect(kept).toMatchObject({
        capacity: 0,
        available: false,
        dateUpdated: new Date('2026-02-01T00:00:00Z'),
      });
      expect(kept.sid).toBe(workerChannelSid(workers[3]!, channels[1]!));
      // A move still keeps the counts: worker 1 (channel c0 at capacity 0) to the other activity.
      await store.transaction((tx) =>
        tx.updateWorker(workers[1]!, { activitySid: activities[0] }, new Date()),
      );
      expect((await store.activityCounts(ws)).map((x) => x.workers)).toEqual([4, 2]);
      expect((await store.activityCounts(ws, channels[0])).map((x) => x.workers)).toEqual([2, 2]);
      expect((await store.activityCounts(ws, channels[1])).map((x) => x.workers)).toEqual([4, 1]);
    } finally {
      await store.close();
    }
  });
});

describe.runIf(testBackend() === 'postgres')('PostgreSQL migration 008 (worker channel deviations)', () => {
  it('keeps only deviating worker channels, with the same statistics', async () => {
    const schema = newSchemaName();
    const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
    await client.connect();
    const pgMigrations = join(import.meta.dirname, '../../src/storage/postgres/migrations');
    let store: PostgresStore | undefined;
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path = ${schema}`);
      await client.query(
        'CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      for (const file of readdirSync(pgMigrations)
        .filter((f) => f < '008')
        .sort()) {
        await client.query(readFileSync(join(pgMigrations, file), 'utf8'));
        await client.query('INSERT INTO schema_migrations VALUES ($1, now())', [file]);
      }
      const at = new Date('2026-01-01T00:00:00Z');
      const account = newSid(SidPrefix.account);
      const ws = newSid(SidPrefix.workspace);
      const activities = [newSid(SidPrefix.activity), newSid(SidPrefix.activity)];
      const channels = [newSid(SidPrefix.taskChannel), newSid(SidPrefix.taskChannel)];
      await client.query(
        `INSERT INTO workspaces (sid, account_sid, friendly_name, multi_task_enabled, prioritize_queue_order,
           default_activity_sid, timeout_activity_sid, date_created, date_updated)
         VALUES ($1, $2, 'W', true, 'FIFO', $3, $3, $4, $4)`,
        [ws, account, activities[0], at],
      );
      for (const [i, sid] of activities.entries()) {
        await client.query(
          `INSERT INTO activities (sid, account_sid, workspace_sid, friendly_name, name_key, available, date_created, date_updated)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
          [sid, account, ws, `A${i}`, `a${i}`, i === 1, at],
        );
      }
      for (const [i, sid] of channels.entries()) {
        await client.query(
          `INSERT INTO task_channels (sid, account_sid, workspace_sid, unique_name, friendly_name, channel_optimized_routing,
             date_created, date_updated) VALUES ($1, $2, $3, $4, $5, false, $6, $6)`,
          [sid, account, ws, `c${i}`, `C${i}`, at],
        );
      }
      const settings: Record<string, [number, boolean]> = {
        '0:0': [1, false],
        '1:0': [0, true],
        '2:1': [2, true],
        '3:1': [0, false],
      };
      const workers: string[] = [];
      for (let k = 0; k < 6; k++) {
        const sid = newSid(SidPrefix.worker);
        workers.push(sid);
        await client.query(
          `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes, version,
             date_created, date_updated, date_status_changed) VALUES ($1, $2, $3, $4, $4, $5, '{}', 0, $6, $6, $6)`,
          [sid, account, ws, `w${k}`, activities[k % 2], at],
        );
        for (const [i, c] of channels.entries()) {
          const [capacity, available] = settings[`${k}:${i}`] ?? [1, true];
          await client.query(
            `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
               date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
            [newSid(SidPrefix.workerChannel), account, ws, sid, c, capacity, available, at],
          );
        }
      }
      const oldCounts: number[][] = [];
      for (const c of channels) {
        const row: number[] = [];
        for (const a of activities) {
          const r = await client.query(
            'SELECT COALESCE(sum(workers), 0)::int AS n FROM channel_activity_counts WHERE task_channel_sid = $1 AND activity_sid = $2',
            [c, a],
          );
          row.push(r.rows[0].n as number);
        }
        oldCounts.push(row);
      }
      expect(oldCounts).toEqual([
        [2, 2],
        [3, 2],
      ]);

      store = PostgresStore.open({ connectionString: requireTestDatabaseUrl(), schema, poolSize: 2 });
      for (const [i, c] of channels.entries()) {
        expect(
          (await store.activityCounts(ws, c)).map((x) => x.workers),
          `channel ${i}`,
        ).toEqual(oldCounts[i]);
      }
      expect(Number((await client.query('SELECT count(*) AS n FROM worker_channels')).rows[0].n)).toBe(4);
      const kept = (await store.getWorkerChannel(workers[3]!, 'c1'))!;
      expect(kept).toMatchObject({ capacity: 0, available: false });
      expect(kept.sid).toBe(workerChannelSid(workers[3]!, channels[1]!));
      await store.transaction((tx) =>
        tx.updateWorker(workers[1]!, { activitySid: activities[0] }, new Date()),
      );
      expect((await store.activityCounts(ws)).map((x) => x.workers)).toEqual([4, 2]);
      expect((await store.activityCounts(ws, channels[0])).map((x) => x.workers)).toEqual([2, 2]);
      expect((await store.activityCounts(ws, channels[1])).map((x) => x.workers)).toEqual([4, 1]);
    } finally {
      await store?.close();
      await client.end();
      await dropSchema(schema);
    }
  });
});
