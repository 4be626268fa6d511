import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SQLITE_MIGRATIONS = join(import.meta.dirname, '../../src/storage/sqlite/migrations');

/**
 * A SQLite store at `path` as the schema before migration `before` (e.g. '015') left it: every
 * earlier migration applied and recorded, so that opening it with SqliteStore applies the rest.
 */
export function sqliteStoreBefore(path: string, before: string): Database.Database {
  const db = new Database(path);
  db.exec('CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  for (const file of readdirSync(SQLITE_MIGRATIONS)
    .filter((f) => f < before)
    .sort()) {
    db.exec(readFileSync(join(SQLITE_MIGRATIONS, file), 'utf8'));
    db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(file, '2026-01-01T00:00:00Z');
  }
  return db;
}
