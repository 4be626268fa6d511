import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore, type PostgresStoreOptions } from '../../src/storage/postgres/postgres-store.js';

/** Where the PostgreSQL suites run; unset, they are skipped (see vitest.config.ts). */
export const TEST_DATABASE_URL = process.env.ROSTER_TEST_DATABASE_URL || undefined;

/** The backend of this Vitest project: 'postgres' when it sets ROSTER_TEST_BACKEND. */
export function testBackend(): 'sqlite' | 'postgres' {
  return process.env.ROSTER_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';
}

export function requireTestDatabaseUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error('ROSTER_TEST_DATABASE_URL is not set');
  return TEST_DATABASE_URL;
}

/** Every schema of this test run starts with it (vitest.config.ts sets it per run). */
export const SCHEMA_PREFIX = process.env.ROSTER_TEST_SCHEMA_PREFIX || 'roster_t_';

/** A schema name nobody else uses: each test file gets its own tables. */
export function newSchemaName(): string {
  return `${SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`;
}

/** The schema that stands for a test's data directory: reopening the directory reopens it. */
export function schemaForDir(dir: string): string {
  return `${SCHEMA_PREFIX}d${createHash('sha1').update(dir).digest('hex').slice(0, 12)}`;
}

/** Drops this run's schemas that are left (a test's data directory outlives its store). */
export async function dropRunSchemas(): Promise<void> {
  const { rows } = await adminQuery(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, [
    SCHEMA_PREFIX,
  ]);
  for (const r of rows as { nspname: string }[]) await dropSchema(r.nspname);
}

/** Runs SQL on a connection of its own (not a store's), e.g. to drop a schema or kill backends. */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/**
 * A PostgresStore on a fresh schema (or on `schema`, to share one with another store as a
 * second node would); closing the store that made the schema drops it.
 */
export function openPostgresTestStore(options: Partial<PostgresStoreOptions> = {}): PostgresStore {
  const owned = options.schema === undefined;
  const schema = options.schema ?? newSchemaName();
  const store = PostgresStore.open({
    connectionString: requireTestDatabaseUrl(),
    poolSize: 4,
    // Test files seed thousands of rows in one statement while others run beside them: on a
    // loaded machine that can pass the production default of 10 s. Tests of the timeout set their own.
    statementTimeoutMs: 60_000,
    ...options,
    schema,
  });
  if (owned) {
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      await dropSchema(schema);
    };
  }
  return store;
}
