/**
 * Worker activity updates per second on PostgreSQL, with 1 and with 2 Roster nodes on one
 * database. Each node is a process of its own with its own pool; every update is the full
 * service transaction (check, lock, update, counts kept by the triggers, re-read, commit).
 * All workers flip between the same two activities, so every update changes the same two
 * activities' counts: the case a single counter row per activity would serialize.
 *
 *   ROSTER_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/postgres-updates.ts
 *
 * Options (env): ROSTER_BENCH_SECONDS (default 5), ROSTER_BENCH_CONCURRENCY per node (default 8),
 * ROSTER_BENCH_WORKERS (default 400).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { createServices } from '../src/services/index.js';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';

const url = process.env.ROSTER_BENCH_DATABASE_URL ?? process.env.ROSTER_TEST_DATABASE_URL;
const seconds = Number(process.env.ROSTER_BENCH_SECONDS ?? 5);
const concurrency = Number(process.env.ROSTER_BENCH_CONCURRENCY ?? 8);
const workerCount = Number(process.env.ROSTER_BENCH_WORKERS ?? 400);

interface Job {
  schema: string;
  accountSid: string;
  workspaceSid: string;
  workers: string[];
  activities: [string, string];
  startAt: number;
  seconds: number;
  concurrency: number;
}

/** One node: `concurrency` loops, each flipping its own workers, from startAt for `seconds`. */
async function runNode(job: Job): Promise<{ updates: number; errors: number }> {
  const store = PostgresStore.open({ connectionString: url!, schema: job.schema, poolSize: job.concurrency });
  const services = createServices(store);
  await store.ready();
  let updates = 0;
  let errors = 0;
  while (Date.now() < job.startAt) await new Promise((r) => setTimeout(r, 5));
  const end = job.startAt + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, loop) => {
      const mine = job.workers.filter((_, i) => i % job.concurrency === loop);
      for (let n = 0; Date.now() < end; n++) {
        const worker = mine[n % mine.length]!;
        try {
          await services.workers.update(
            job.accountSid,
            job.workspaceSid,
            worker,
            { activitySid: job.activities[(n / mine.length + loop) % 2 < 1 ? 0 : 1] },
            undefined,
          );
          updates++;
        } catch {
          errors++;
        }
      }
    }),
  );
  await store.close();
  return { updates, errors };
}

async function setUp(
  schema: string,
): Promise<Omit<Job, 'workers' | 'startAt' | 'seconds' | 'concurrency'> & { workers: string[] }> {
  const store = PostgresStore.open({ connectionString: url!, schema });
  const services = createServices(store);
  const accountSid = newSid(SidPrefix.account);
  await services.accounts.ensure(accountSid, newAuthToken());
  const ws = await services.workspaces.create(accountSid, { friendlyName: 'Bench' });
  const acts = (await store.listActivities(ws.sid, {}, { pageSize: 10, page: 0 })).items;
  const available = acts.find((a) => a.friendlyName === 'Available')!.sid;
  const unavailable = acts.find((a) => a.friendlyName === 'Unavailable')!.sid;
  const workers: string[] = [];
  for (let i = 0; i < workerCount; i++) {
    workers.push(
      (await services.workers.create(accountSid, ws.sid, { friendlyName: `W${i}`, activitySid: available }))
        .sid,
    );
  }
  await store.close();
  return { schema, accountSid, workspaceSid: ws.sid, workers, activities: [available, unavailable] };
}

function spawnNode(job: Job): Promise<{ updates: number; errors: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--node'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.end(JSON.stringify(job));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`node exited ${code}`)),
    ),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--node')) {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    process.stdout.write(JSON.stringify(await runNode(JSON.parse(input) as Job)));
    return;
  }
  if (!url)
    throw new Error('Set ROSTER_BENCH_DATABASE_URL (or ROSTER_TEST_DATABASE_URL) to a PostgreSQL database');
  const schema = `roster_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const base = await setUp(schema);
    console.log(
      `PostgreSQL worker activity updates: ${workerCount} workers, ${concurrency} in flight per node, ${seconds}s per run`,
    );
    const runs: [number, string][] = [
      [1, 'sharded counters'],
      [2, 'sharded counters'],
      [2, 'one counter row per activity (for comparison)'],
    ];
    const measured: { nodes: number; counters: string; updatesPerSecond: number; errors: number }[] = [];
    for (const [nodes, counters] of runs) {
      if (counters !== 'sharded counters') {
        // Every connection adds to slot 0: the single hot row the shards avoid.
        await admin.query(
          `CREATE OR REPLACE FUNCTION ${schema}.roster_count_slot() RETURNS smallint LANGUAGE sql VOLATILE AS 'SELECT 0::smallint'`,
        );
      }
      const job = { ...base, seconds, concurrency, startAt: Date.now() + 3000 };
      const results = await Promise.all(
        Array.from({ length: nodes }, (_, n) =>
          spawnNode({ ...job, workers: base.workers.filter((_, i) => i % nodes === n) }),
        ),
      );
      const updates = results.reduce((s, r) => s + r.updates, 0);
      const errors = results.reduce((s, r) => s + r.errors, 0);
      console.log(
        `  ${nodes} node${nodes > 1 ? 's' : ' '}, ${counters}: ${Math.round(updates / seconds)} updates/s (${updates} in ${seconds}s, ${errors} errors)`,
      );
      measured.push({ nodes, counters, updatesPerSecond: Math.round(updates / seconds), errors });
    }
    // The counts are still exact after all that.
    const check = await admin.query(
      `SELECT (SELECT count(*) FROM ${schema}.workers)::int AS workers,
              (SELECT sum(workers) FROM ${schema}.activity_counts)::int AS counted`,
    );
    console.log(`  recount: ${check.rows[0].workers} workers, ${check.rows[0].counted} counted`);
    // For `npm run bench`, which puts these numbers into BENCHMARKS.md.
    const recount = { workers: check.rows[0].workers as number, counted: check.rows[0].counted as number };
    console.log(`RESULT ${JSON.stringify({ workerCount, concurrency, seconds, runs: measured, recount })}`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
