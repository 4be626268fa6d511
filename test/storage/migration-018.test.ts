import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { sqliteStoreBefore } from '../helpers/migrations.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * Migration 018 on a store rolled before activity durations came from the rollups: its rows
 * (without worker stints) are dropped and the watermark reset, so that the roller rolls the log
 * again, stints included (reads stay exact meanwhile: they read the log from the watermark on).
 */
const dir = mkdtempSync(join(tmpdir(), 'roster-migration-018-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(testBackend() === 'sqlite')('SQLite migration 018 (activity duration rollups)', () => {
  it('drops the rollups rolled without worker stints and resets the watermark', async () => {
    const path = join(dir, 'roster.db');
    const db = sqliteStoreBefore(path, '018');
    db.prepare(
      `INSERT INTO statistics_rollups (scope_sid, span_minutes, bucket, task_channel_sid, tally)
       VALUES ('WS1', 1, 100, '', '{}')`,
    ).run();
    db.prepare('UPDATE statistics_roll SET rolled_until_ms = ? WHERE id = 1').run(101 * 60_000);
    db.close();

    const store = SqliteStore.open({ path });
    try {
      expect(await store.statisticsRolledUntil()).toBe(0);
      expect(await store.statisticsRollups(['WS1'], undefined, 1, 0, 1_000)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
