import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/storage/sqlite/checkpointer.js';

/**
 * The WAL is checkpointed on a thread of its own: the writer's commits only ask for it, and
 * what the log holds reaches the database file without the writer copying it.
 */
const dir = mkdtempSync(join(tmpdir(), 'roster-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the WAL checkpointer (sqlite)', () => {
  it('copies the log into the database file off the writer, every N commits, and closes cleanly', async () => {
    const path = join(dir, 'c.db');
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0'); // the writer never checkpoints here
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const checkpointer = new Checkpointer(path, 10);
    const insert = writer.prepare('INSERT INTO t (v) VALUES (?)');
    const sizeBefore = statSync(path).size;
    for (let i = 0; i < 9; i++) {
      insert.run('x'.repeat(4000));
      checkpointer.committed();
    }
    await checkpointer.whenIdle();
    expect(statSync(path).size).toBe(sizeBefore); // nine commits: not yet asked
    insert.run('x'.repeat(4000));
    checkpointer.committed(); // the tenth
    await checkpointer.whenIdle();
    // The ten rows' pages are in the database file now, copied there by the thread.
    expect(statSync(path).size).toBeGreaterThan(sizeBefore + 9 * 4000);
    await checkpointer.close();
    checkpointer.committed(); // after close: nothing
    expect(writer.prepare('SELECT count(*) FROM t').pluck().get()).toBe(10);
    writer.close();
  });
});
