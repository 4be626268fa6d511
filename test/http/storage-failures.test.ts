import type Database from 'better-sqlite3';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { adminQuery, schemaForDir, testBackend } from '../helpers/postgres.js';
import { expectTwilioError } from '../helpers/spec.js';

/** An app whose error log lines are kept. */
async function appWithLog(): Promise<{ t: TestApp; log: string[]; ws: string }> {
  const log: string[] = [];
  const t = await createTestApp({
    logger: { level: 'error', stream: { write: (line: string) => void log.push(line) } },
  });
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Disk' } })
  ).json().sid as string;
  return { t, log, ws };
}

const messages = (log: string[]) => log.map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('a full disk', () => {
  let t: TestApp;
  let log: string[];
  let ws: string;
  beforeAll(async () => ({ t, log, ws } = await appWithLog()));
  afterAll(() => t.close());

  // SQLite: the database may not grow by a page (PRAGMA max_page_count on the store's writing
  // connection), which is what a full disk looks like to it (SQLITE_FULL). PostgreSQL: a
  // trigger raises disk_full (53100), as PostgreSQL does when it cannot extend a file.
  async function fill(): Promise<void> {
    if (testBackend() === 'sqlite') {
      const writer = (t.store as unknown as { writer: Database.Database }).writer;
      writer.pragma(`max_page_count = ${writer.pragma('page_count', { simple: true }) as number}`);
    } else {
      const schema = schemaForDir(t.dir);
      await adminQuery(`CREATE FUNCTION ${schema}.disk_full() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`);
      await adminQuery(
        `CREATE TRIGGER disk_full BEFORE INSERT ON ${schema}.workers FOR EACH ROW EXECUTE FUNCTION ${schema}.disk_full()`,
      );
    }
  }
  async function free(): Promise<void> {
    if (testBackend() === 'sqlite') {
      (t.store as unknown as { writer: Database.Database }).writer.pragma('max_page_count = 1073741823');
    } else {
      await adminQuery(`DROP TRIGGER disk_full ON ${schemaForDir(t.dir)}.workers`);
    }
  }

  it('is a 503 with Retry-After and one log line, and writes work again once space is freed', async () => {
    await fill();
    const big = JSON.stringify({ notes: 'x'.repeat(16_000) });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/Workers`,
        form: { FriendlyName: `full${i}`, Attributes: big },
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 503) {
        expectTwilioError(res.json(), 503, 20503);
        expect(res.json().message).toMatch(/cannot store more data/);
        expect(res.headers['retry-after']).toBe('30');
      }
    }
    // SQLite may fit a worker or two into free space on pages it has; then it is full.
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(statuses.slice(-15)).toEqual(Array(15).fill(503));
    const said = messages(log).filter((m) => /disk/.test(m));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(testBackend() === 'sqlite' ? /SQLITE_FULL/ : /53100/);
    expect(said[0]).toMatch(/until space is freed/);

    await free();
    const after = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers`,
      form: { FriendlyName: 'room' },
    });
    expect(after.statusCode, after.body).toBe(201);
    const stats = (await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics` })).json();
    const listed = (await t.request({ url: `/v1/Workspaces/${ws}/Workers?PageSize=100` })).json().workers;
    expect(stats.total_workers).toBe(listed.length);
    expect(listed.length).toBe(statuses.filter((s) => s === 201).length + 1);
  });
});

describe.skipIf(testBackend() === 'postgres')('the database file deleted or replaced while running', () => {
  it.each(['deleted', 'replaced'])(
    'when %s, every write is a 503 telling the operator to restart',
    async (how) => {
      const { t, log, ws } = await appWithLog();
      try {
        const create = (name: string) =>
          t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: name } });
        expect((await create('before')).statusCode).toBe(201);
        const file = join(t.dir, 'roster.db');
        if (how === 'deleted') {
          rmSync(file);
        } else {
          writeFileSync(join(t.dir, 'other.db'), '');
          renameSync(join(t.dir, 'other.db'), file);
        }
        // Writes that arrive together (one batch) and one after another: none is acknowledged.
        const results = [
          ...(await Promise.all([create('a'), create('b'), create('c')])),
          await create('d'),
          await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}`, form: { FriendlyName: 'Renamed' } }),
        ];
        for (const res of results) {
          expectTwilioError(res.json(), 503, 20503);
          expect(res.json().message).toMatch(/until it is restarted/);
        }
        const said = messages(log).filter((m) => /deleted or replaced/.test(m));
        expect(said).toHaveLength(1);
        expect(said[0]).toContain(file);
        expect(said[0]).toMatch(/Restart Roster/);
      } finally {
        await t.close();
      }
    },
  );
});
