import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../domain/errors.js';
import type { ChangeBus } from '../services/ports/changes.js';
import { PgChangeBus } from './postgres/pg-change-bus.js';
import { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store.js';
import { SqliteStore, type SqliteSynchronous } from './sqlite/sqlite-store.js';
import type { Store } from '../services/ports/store.js';

export const SQLITE_FILE = 'roster.db';

/** What choosing and opening a store needs (the composition root passes it from the config). */
export interface StoreConfig {
  dataDir: string;
  sqliteSynchronous: SqliteSynchronous;
  postgres?: (Omit<PostgresStoreOptions, 'connectionString' | 'schema'> & { url: string }) | null;
}

/** Makes sure the data directory exists and can be written, or says clearly why not. */
export function prepareDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(`ROSTER_DATA_DIR ${dir} cannot be used: ${(err as Error).message}`);
  }
  return dir;
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdirSync never returns for a path
 * under /proc, where it keeps retrying ENOENT.
 */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeDirs(parent);
  mkdirSync(dir);
}

/**
 * The one place the backend is chosen: PostgreSQL when DATABASE_URL is set (its migrations
 * run on first use), SQLite in the data directory otherwise.
 */
export function createStore(config: StoreConfig): Store {
  if (config.postgres) {
    const { url, ...options } = config.postgres;
    return PostgresStore.open({ connectionString: url, ...options });
  }
  const dir = prepareDataDir(config.dataDir);
  return SqliteStore.open({ path: join(dir, SQLITE_FILE), synchronous: config.sqliteSynchronous });
}

/**
 * The change bus for a store: one that reaches every node (LISTEN/NOTIFY) on PostgreSQL;
 * undefined (the services' node-local default) on SQLite, which has one node.
 */
export function createChangeBus(
  store: Store,
  onError?: (err: Error) => void,
): (ChangeBus & { close(): Promise<void> }) | undefined {
  return store instanceof PostgresStore ? new PgChangeBus(store, onError) : undefined;
}
