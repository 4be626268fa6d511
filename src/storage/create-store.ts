import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, type Config } from '../config.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export const SQLITE_FILE = 'roster.db';

/** Makes sure the data directory exists and can be written, or says clearly why not. */
export function prepareDataDir(dataDir: string): string {
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(`ROSTER_DATA_DIR ${dir} cannot be used: ${(err as Error).message}`);
  }
  return dir;
}

/** The one place the backend is chosen. */
export function createStore(config: Pick<Config, 'dataDir' | 'sqliteSynchronous'>): Store {
  const dir = prepareDataDir(config.dataDir);
  return SqliteStore.open({ path: join(dir, SQLITE_FILE), synchronous: config.sqliteSynchronous });
}
