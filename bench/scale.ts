/**
 * Issue 15: administrative writes on the big seeded workspace (task channel create and delete,
 * activity delete, a queue's create and an activity's rename with their membership passes,
 * workspace delete) while a reader asks for another workspace's statistics,
 * one request after another. Reports each operation's response time, how long its background
 * reclamation took, and the reader's latencies from the operation's start until nothing is
 * left to reclaim.
 *
 * Runs on a copy of the seeded store (the workspace delete destroys it), with `roster serve`
 * in its own process; the reader runs in this one.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

export interface ScaleBenchOptions {
  root: string;
  /** SQLite: the seeded store's data directory (roster.db and credentials.json), copied first. */
  sourceDir?: string;
  /** PostgreSQL: a database URL; a schema of its own is seeded with `postgresWorkers` workers, then dropped. */
  postgres?: { url: string; workers: number };
  workDir: string;
  bigWorkspace?: string;
  smallWorkspace?: string;
  auth?: string;
  log: (line: string) => void;
}

export interface OperationResult {
  name: string;
  responseMs: number;
  status: number;
  /** From the response until the reclaims table was empty (0 when nothing was left). */
  reclaimSeconds: number;
  reads: number;
  p50: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startServer(
  root: string,
  dataDir: string,
  extra: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'main.js'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      ...extra,
      HOST: '127.0.0.1',
      PORT: '0',
      ROSTER_DATA_DIR: dataDir,
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
      ROSTER_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const m = /Server listening at (http:\/\/[0-9.:]+)/.exec(line);
    if (m) {
      lines.on('line', () => undefined);
      return { child, url: m[1]! };
    }
  }
  throw new Error('roster exited before listening');
}

/** `roster seed` into the database at `env`; returns the workspace SID. */
function seed(root: string, workers: number, env: Record<string, string>): string {
  const out = execFileSync(
    process.execPath,
    [join(root, 'dist', 'main.js'), 'seed', '--workers', String(workers)],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    },
  );
  return out.trim().split('\n').at(-1)!;
}

export async function runScaleBench(
  o: ScaleBenchOptions,
): Promise<OperationResult[] & { seedSeconds?: number }> {
  rmSync(o.workDir, { recursive: true, force: true });
  mkdirSync(o.workDir, { recursive: true });
  let env: Record<string, string> = {};
  let pending: () => Promise<number>;
  let closeStore: () => Promise<void>;
  let bigWorkspace = o.bigWorkspace;
  let smallWorkspace = o.smallWorkspace;
  let seedSeconds: number | undefined;
  if (o.postgres) {
    const schema = `roster_bench_scale_${process.pid}`;
    const admin = new pg.Client({ connectionString: o.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path = ${schema}`);
    const sep = o.postgres.url.includes('?') ? '&' : '?';
    env = {
      DATABASE_URL: `${o.postgres.url}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      ROSTER_DATA_DIR: o.workDir,
    };
    o.log(`  seeding ${o.postgres.workers.toLocaleString('en')} workers into PostgreSQL...`);
    const started = performance.now();
    bigWorkspace = seed(o.root, o.postgres.workers, env);
    seedSeconds = (performance.now() - started) / 1000;
    smallWorkspace = seed(o.root, 10, env);
    pending = async () => Number((await admin.query('SELECT count(*) AS n FROM reclaims')).rows[0].n);
    closeStore = async () => {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    };
  } else {
    for (const f of ['roster.db', 'roster.db-wal', 'credentials.json']) {
      if (existsSync(join(o.sourceDir!, f))) copyFileSync(join(o.sourceDir!, f), join(o.workDir, f));
    }
    const db = new Database(join(o.workDir, 'roster.db'), { readonly: true });
    const count = db.prepare('SELECT count(*) FROM reclaims').pluck();
    pending = async () => count.get() as number;
    closeStore = async () => {
      db.close();
    };
  }
  const creds = JSON.parse(readFileSync(join(o.workDir, 'credentials.json'), 'utf8')) as {
    account_sid: string;
    auth_token: string;
  };
  const auth =
    o.auth ?? 'Basic ' + Buffer.from(`${creds.account_sid}:${creds.auth_token}`).toString('base64');
  const { child, url } = await startServer(o.root, o.workDir, env);
  const headers = { authorization: auth };
  const call = async (method: string, path: string, form?: Record<string, string>) => {
    const res = await fetch(url + path, {
      method,
      headers: form ? { ...headers, 'content-type': 'application/x-www-form-urlencoded' } : headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const statsSmall = `/v1/Workspaces/${smallWorkspace}/Workers/RealTimeStatistics`;
  const big = `/v1/Workspaces/${bigWorkspace}`;

  /** Reads `small`'s statistics back to back while `operation` runs and its reclamation lasts. */
  const measure = async (name: string, operation: () => Promise<number>): Promise<OperationResult> => {
    o.log(`  ${name}...`);
    let done = false;
    const latencies: number[] = [];
    const reader = (async () => {
      while (!done) {
        const started = performance.now();
        const res = await fetch(url + statsSmall, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`statistics read: ${res.status}`);
        latencies.push(performance.now() - started);
      }
    })();
    await sleep(200); // the reader is under way before the operation starts
    const started = performance.now();
    const status = await operation();
    const responseMs = performance.now() - started;
    const answered = performance.now();
    while ((await pending()) > 0) await sleep(50);
    const reclaimSeconds = (performance.now() - answered) / 1000;
    done = true;
    await reader;
    const sorted = [...latencies].sort((a, b) => a - b);
    const r = {
      name,
      responseMs,
      status,
      reclaimSeconds: reclaimSeconds < 0.06 ? 0 : reclaimSeconds,
      reads: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? NaN,
    };
    o.log(
      `    ${status} in ${responseMs.toFixed(0)} ms, reclaimed in ${r.reclaimSeconds.toFixed(1)} s; ${r.reads} reads p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} max ${r.max.toFixed(1)} ms`,
    );
    return r;
  };

  const results: OperationResult[] & { seedSeconds?: number } = [];
  results.seedSeconds = seedSeconds;
  try {
    results.push(await measure('Idle (no operation), 2 s', async () => (await sleep(2000), 200)));
    let created = '';
    results.push(
      await measure('Create a task channel', async () => {
        const r = await call('POST', `${big}/TaskChannels`, { FriendlyName: 'Email', UniqueName: 'email' });
        created = r.body.sid as string;
        return r.status;
      }),
    );
    results.push(
      await measure(
        'Delete that task channel',
        async () => (await call('DELETE', `${big}/TaskChannels/${created}`)).status,
      ),
    );
    results.push(
      await measure(
        'Delete a seeded task channel (its deviating worker channels reclaimed)',
        async () => (await call('DELETE', `${big}/TaskChannels/chat`)).status,
      ),
    );
    const spare = (await call('POST', `${big}/Activities`, { FriendlyName: 'Spare' })).body.sid as string;
    results.push(
      await measure(
        'Delete an activity',
        async () => (await call('DELETE', `${big}/Activities/${spare}`)).status,
      ),
    );
    // A queue reading activity_name, so that a rename changes its members: its own pass first
    // (over every worker, none of which matches yet), then the rename of the busiest activity.
    results.push(
      await measure(
        'Create a TaskQueue reading activity_name (its pass over every worker)',
        async () =>
          (
            await call('POST', `${big}/TaskQueues`, {
              FriendlyName: 'Resting',
              TargetWorkers: "activity_name == 'Resting'",
            })
          ).status,
      ),
    );
    const busiest = (
      (await call('GET', `${big}/Workers/RealTimeStatistics`)).body.activity_statistics as {
        sid: string;
        workers: number;
      }[]
    ).reduce((a, b) => (b.workers > a.workers ? b : a));
    results.push(
      await measure(
        `Rename an activity (its ${busiest.workers.toLocaleString('en')} workers join that queue)`,
        async () =>
          (await call('POST', `${big}/Activities/${busiest.sid}`, { FriendlyName: 'Resting' })).status,
      ),
    );
    results.push(await measure('Delete the workspace', async () => (await call('DELETE', big)).status));
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    await closeStore();
    rmSync(o.workDir, { recursive: true, force: true });
  }
  return results;
}
