import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/storage/sqlite/checkpointer.js';
import { ROOT } from '../helpers/process.js';

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

  it('lets a process that has nothing else to do close its store: the thread is waited for, then the log is gone', () => {
    // In a process of its own: under the test runner something else always keeps the process up.
    const path = join(dir, 'p.db');
    const script = `
      import { SqliteStore } from './src/storage/sqlite/sqlite-store.ts';
      const store = SqliteStore.open({ path: ${JSON.stringify(path)} });
      for (let i = 0; i < 100; i++) {
        await store.transaction((tx) =>
          tx.upsertAccount({ sid: 'AC' + String(i).padStart(32, '0'), authToken: 'token-123456' }, new Date()),
        );
      }
      await store.close();
      console.log('closed');`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(out.trim()).toBe('closed');
    // The writer closed last, so SQLite checkpointed the log and removed it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});
