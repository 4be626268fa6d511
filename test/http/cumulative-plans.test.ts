import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACT_EVENT_TYPES, QUEUE_ENTRY_TYPES } from '../../src/domain/cumulative-statistics.js';
import { queryBuilder } from '../../src/storage/schema.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import * as q from '../../src/storage/statistics-rollups.js';
import { testBackend } from '../helpers/postgres.js';

/** Each query of cumulative statistics seeks an index: no scan of the log or the rollups. */
describe.skipIf(testBackend() !== 'sqlite')('cumulative statistics query plans (SQLite)', () => {
  it('seek the events and rollups by index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-plans-'));
    await SqliteStore.open({ path: join(dir, 'roster.db') }).close();
    const db = new Database(join(dir, 'roster.db'));
    const b = queryBuilder('sqlite');
    const plan = (c: { compile(): { sql: string; parameters: readonly unknown[] } }) => {
      const { sql, parameters } = c.compile();
      return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as { detail: string }[])
        .map((r) => r.detail)
        .join('; ');
    };
    const window = { workspaceSid: 'WS', fromMs: 0, toMs: 10 };
    const plans = {
      facts: plan(q.statisticsEventsQuery(b, { ...window, types: FACT_EVENT_TYPES })),
      worker: plan(q.statisticsEventsQuery(b, { ...window, workerSid: 'WK', types: FACT_EVENT_TYPES })),
      entry: plan(q.lastQueueEntryQuery(b, 'WT', 5, QUEUE_ENTRY_TYPES)),
      rollups: plan(q.rollupsQuery(b, ['WS', 'WQ'], 'TC', 60, 0, 10)),
      minutes: plan(q.spanRowsQuery(b, 60, 0, 10)),
      first: plan(q.firstEventTimeQuery(b, 'WS', 0)),
    };
    for (const [name, p] of Object.entries(plans)) {
      expect(p, name).toMatch(/^SEARCH /);
      expect(p, name).not.toMatch(/SCAN|TEMP B-TREE/);
    }
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
