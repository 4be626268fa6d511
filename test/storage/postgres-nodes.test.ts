import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices } from '../../src/services/index.js';
import type { WorkspaceChange } from '../../src/services/changes.js';
import { PgChangeBus } from '../../src/storage/postgres/pg-change-bus.js';
import { basicAuth } from '../helpers/app.js';
import { freePort, runRoster, type RosterProcess } from '../helpers/process.js';
import {
  adminQuery,
  dropSchema,
  newSchemaName,
  openPostgresTestStore,
  requireTestDatabaseUrl,
} from '../helpers/postgres.js';

/** Two `roster serve` processes on one PostgreSQL schema, as two nodes behind a load balancer. */

const schema = newSchemaName();
const MIGRATIONS = readdirSync(new URL('../../src/storage/postgres/migrations', import.meta.url))
  .filter((f) => f.endsWith('.sql'))
  .sort();
const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };
const auth = basicAuth(account.sid, account.token);
const dirs: string[] = [];
const nodes: { proc: RosterProcess; base: string }[] = [];

function urlWithSchema(s: string): string {
  const u = new URL(requireTestDatabaseUrl());
  u.searchParams.set('options', `-c search_path=${s}`);
  return u.toString();
}

async function startNode(): Promise<{ proc: RosterProcess; base: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-node-'));
  dirs.push(dir);
  const port = await freePort();
  const proc = runRoster(['serve'], {
    DATABASE_URL: urlWithSchema(schema),
    PORT: String(port),
    ROSTER_DATA_DIR: dir,
    ROSTER_ACCOUNT_SID: account.sid,
    ROSTER_AUTH_TOKEN: account.token,
    ROSTER_RATE_LIMIT_READS: '0',
    ROSTER_RATE_LIMIT_WRITES: '0',
    ROSTER_PG_POOL_SIZE: '4',
  });
  await proc.waitFor(/Roster is listening on (\S+)/);
  return { proc, base: `http://127.0.0.1:${port}` };
}

async function call(base: string, path: string, form?: Record<string, string>, method?: string) {
  const res = await fetch(`${base}/v1${path}`, {
    method: method ?? (form ? 'POST' : 'GET'),
    headers: {
      authorization: auth,
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  // The schema exists and is empty: both nodes start at once and race to migrate it.
  await adminQuery(`CREATE SCHEMA ${schema}`);
  nodes.push(...(await Promise.all([startNode(), startNode()])));
}, 60_000);

afterAll(async () => {
  for (const n of nodes) {
    n.proc.child.kill('SIGTERM');
    await n.proc.exited;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await dropSchema(schema);
});

/** 'ok' for a success, else the status and body, to show in the failure. */
const ok = (r: { status: number; body: unknown }): string =>
  r.status >= 200 && r.status < 300 ? 'ok' : `${r.status} ${JSON.stringify(r.body)}`;

interface Stats {
  total_workers: number;
  activity_statistics: { sid: string; workers: number }[];
}

describe('two nodes on one database', () => {
  let ws: string;
  let activities: string[];

  it('migrated once, and a write on one node is read on the other at once', async () => {
    const migrations = await adminQuery(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    expect(migrations.rows.map((r: { version: string }) => r.version)).toEqual(MIGRATIONS);

    const [a, b] = [nodes[0]!, nodes[1]!];
    const created = await call(a.base, '/Workspaces', { FriendlyName: 'Shared' });
    expect(created.status).toBe(201);
    ws = created.body.sid;
    expect((await call(b.base, `/Workspaces/${ws}`)).body.friendly_name).toBe('Shared');
    activities = (await call(b.base, `/Workspaces/${ws}/Activities`)).body.activities.map(
      (x: { sid: string }) => x.sid,
    );

    for (let i = 0; i < 10; i++) {
      const w = await call(b.base, `/Workspaces/${ws}/Workers`, {
        FriendlyName: `Worker ${i}`,
        ActivitySid: activities[i % activities.length]!,
      });
      expect(w.status).toBe(201);
      // Read-your-writes across nodes: the other node counts it immediately.
      const stats = await call(a.base, `/Workspaces/${ws}/Workers/RealTimeStatistics`);
      expect(stats.body.total_workers).toBe(i + 1);
    }
  });

  it('loses and double-counts nothing under concurrent writes to both nodes', async () => {
    const bases = nodes.map((n) => n.base);
    const listWorkers = async () =>
      (await call(bases[0]!, `/Workspaces/${ws}/Workers?PageSize=1000`)).body.workers as {
        sid: string;
        activity_sid: string;
      }[];
    const existing = (await listWorkers()).map((w) => w.sid);
    let serial = 0;
    const ops: Promise<string>[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < existing.length; i++) {
        const base = bases[(i + round) % 2]!;
        ops.push(
          call(base, `/Workspaces/${ws}/Workers/${existing[i]}`, {
            ActivitySid: activities[(i + round + 1) % activities.length]!,
          }).then(ok),
        );
      }
      for (let j = 0; j < 3; j++) {
        const base = bases[j % 2]!;
        ops.push(
          call(base, `/Workspaces/${ws}/Workers`, {
            FriendlyName: `New ${serial++}`,
            ActivitySid: activities[j % activities.length]!,
          }).then(async (r) => {
            if (j !== 0) return ok(r);
            // Every third new worker is deleted again through the other node.
            return ok(
              await call(bases[(j + 1) % 2]!, `/Workspaces/${ws}/Workers/${r.body.sid}`, undefined, 'DELETE'),
            );
          }),
        );
      }
      ops.push(
        call(bases[round % 2]!, `/Workspaces/${ws}/Workers/${existing[round]}/Channels/voice`, {
          Available: round % 2 === 0 ? 'false' : 'true',
        }).then(ok),
      );
    }
    const failures = (await Promise.all(ops)).filter((s) => s !== 'ok');
    expect(failures).toEqual([]);

    // The recount: what the workers say, against what each node's statistics say.
    const workers = await listWorkers();
    expect(workers).toHaveLength(existing.length + 8);
    const expected = new Map<string, number>(activities.map((a) => [a, 0]));
    for (const w of workers) expected.set(w.activity_sid, expected.get(w.activity_sid)! + 1);
    for (const base of bases) {
      const stats = (await call(base, `/Workspaces/${ws}/Workers/RealTimeStatistics`)).body as Stats;
      expect(stats.total_workers).toBe(workers.length);
      expect(Object.fromEntries(stats.activity_statistics.map((s) => [s.sid, s.workers]))).toEqual(
        Object.fromEntries(expected),
      );
    }
  });
});

describe('change notifications across nodes (LISTEN/NOTIFY)', () => {
  it('delivers a change committed on one node to subscribers on every node, once', async () => {
    const shared = newSchemaName();
    const storeA = openPostgresTestStore({ schema: shared });
    const storeB = openPostgresTestStore({ schema: shared });
    const busA = new PgChangeBus(storeA);
    const busB = new PgChangeBus(storeB);
    try {
      await Promise.all([busA.ready(), busB.ready()]);
      expect(busA.listening && busB.listening).toBe(true);
      const a = createServices(storeA, { changes: busA });
      const b = createServices(storeB, { changes: busB });
      const heardA: WorkspaceChange[] = [];
      const heardB: WorkspaceChange[] = [];
      busA.subscribe((c) => heardA.push(c));
      const secondOnB = new Promise<void>((resolve) =>
        busB.subscribe((c) => {
          heardB.push(c);
          if (heardB.length === 2) resolve();
        }),
      );

      await a.accounts.ensure(account.sid, account.token);
      const created = await a.workspaces.create(account.sid, { friendlyName: 'Announced' });
      expect(heardA).toEqual([{ accountSid: account.sid, workspaceSid: created.sid, kind: 'updated' }]);
      await b.workspaces.remove(account.sid, created.sid);
      await secondOnB;
      expect(heardB).toEqual([
        { accountSid: account.sid, workspaceSid: created.sid, kind: 'updated' },
        { accountSid: account.sid, workspaceSid: created.sid, kind: 'deleted' },
      ]);
      // A's own change came back by NOTIFY too, and was not delivered twice; B's arrives.
      await expect.poll(() => heardA.length, { timeout: 10_000 }).toBe(2);
      expect(heardA[1]).toEqual({ accountSid: account.sid, workspaceSid: created.sid, kind: 'deleted' });
    } finally {
      await busA.close();
      await busB.close();
      await storeA.close();
      await storeB.close();
      await dropSchema(shared);
    }
  });

  it('lets nodes that start together on an empty schema migrate it exactly once', async () => {
    const shared = newSchemaName();
    const stores = Array.from({ length: 4 }, () => openPostgresTestStore({ schema: shared }));
    try {
      await Promise.all(stores.map((s) => s.ready()));
      const { rows } = await adminQuery(`SELECT count(*)::int AS n FROM ${shared}.schema_migrations`);
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      for (const s of stores) await s.close();
      await dropSchema(shared);
    }
  });
});
