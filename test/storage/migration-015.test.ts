import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { eventSid } from '../../src/storage/event-sids.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { sqliteStoreBefore } from '../helpers/migrations.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * Migration 015 on a store whose events were logged with stored random SIDs: they keep them
 * (fetched and filtered by them as before), while new events get SIDs derived from their ids.
 */
const dir = mkdtempSync(join(tmpdir(), 'roster-migration-015-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(testBackend() === 'sqlite')('SQLite migration 015 (derived event SIDs)', () => {
  it('keeps the stored SIDs of events logged before it and derives the SIDs of new ones', async () => {
    const path = join(dir, 'roster.db');
    const db = sqliteStoreBefore(path, '015');
    const account = newSid(SidPrefix.account);
    const ws = newSid(SidPrefix.workspace);
    const old = [newSid(SidPrefix.event), newSid(SidPrefix.event)];
    const T = Date.parse('2026-01-01T00:00:00Z');
    for (const [i, sid] of old.entries()) {
      db.prepare(
        `INSERT INTO events (account_sid, workspace_sid, type, resource_type, resource_sid, actor, time_ms, data, sid)
         VALUES (?, ?, 'workspace.updated', 'Workspace', ?, ?, ?, '{}', ?)`,
      ).run(account, ws, ws, account, T + i, sid);
    }
    db.close();

    const store = SqliteStore.open({ path });
    try {
      for (const [i, sid] of old.entries()) {
        expect((await store.getEvent(ws, sid))?.sid).toBe(sid);
        // Its stored SID is its only one: the SID derived from its id names nothing.
        expect(await store.getEvent(ws, eventSid(i + 1, ws))).toBeNull();
        const page = await store.listEventPage(
          ws,
          { fromMs: T, toMs: T + 10, sid },
          { pageSize: 5, page: 0 },
        );
        expect(page.items.map((e) => e.sid)).toEqual([sid]);
      }
      await store.transaction((tx) =>
        tx.appendEvent({
          type: 'workspace.updated',
          accountSid: account,
          workspaceSid: ws,
          resourceType: 'Workspace',
          resourceSid: ws,
          actor: account,
          timeMs: T + 5,
          data: {},
        }),
      );
      const events = await store.listEvents(ws, 0, 10);
      expect(events.map((e) => e.sid)).toEqual([...old, eventSid(events[2]!.id, ws)]);
      expect(await store.getEvent(ws, events[2]!.sid)).toEqual(events[2]);
    } finally {
      await store.close();
    }
    const after = new Database(path, { readonly: true });
    const indexes = after
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'")
      .pluck()
      .all();
    after.close();
    expect(indexes).toContain('events_by_stored_sid');
    expect(indexes).not.toContain('events_by_sid');
    expect(indexes).not.toContain('events_by_workspace');
  });
});
