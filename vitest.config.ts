import { randomBytes } from 'node:crypto';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Every suite runs on SQLite; with ROSTER_TEST_DATABASE_URL set (CI sets it) the HTTP,
 * conformance and storage suites run again on PostgreSQL, one fresh schema per test file,
 * together with the PostgreSQL-only ones (test/storage/postgres-*.test.ts).
 */
const databaseUrl = process.env.ROSTER_TEST_DATABASE_URL;
const POSTGRES_ONLY = 'test/storage/postgres-*.test.ts';
// This run's schemas start with it; the global teardown drops whatever is left of them.
process.env.ROSTER_TEST_SCHEMA_PREFIX ??= `roster_t_${randomBytes(4).toString('hex')}_`;

// Vitest may evaluate this file more than once per run; say it once.
if (!databaseUrl && !process.env.VITEST_WORKER_ID && !process.env.ROSTER_TEST_SKIP_NOTICE) {
  process.env.ROSTER_TEST_SKIP_NOTICE = '1';
  console.log(
    'PostgreSQL suites skipped: ROSTER_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
  );
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true as const,
        test: {
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, POSTGRES_ONLY],
        },
      },
      ...(databaseUrl
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: ['test/**/*.test.ts'],
                // Pure domain code has no storage to run twice.
                exclude: [...configDefaults.exclude, 'test/domain/**'],
                env: {
                  ROSTER_TEST_BACKEND: 'postgres',
                  ROSTER_TEST_DATABASE_URL: databaseUrl,
                  ROSTER_TEST_SCHEMA_PREFIX: process.env.ROSTER_TEST_SCHEMA_PREFIX,
                },
                globalSetup: ['test/helpers/postgres-global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
