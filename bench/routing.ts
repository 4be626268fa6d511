/**
 * Routing speed (`npm run bench`'s routing section; --no-routing skips it): a workspace of
 * 10,000 workers, all available, in 100 queues (one per team), a workflow with a filter per
 * team, and agents that accept every reservation at once and complete it. Each node is a
 * process of its own running Roster's app (requests by `inject`, so the HTTP pipeline is in,
 * the sockets are not), on SQLite (one node) or PostgreSQL (one or two nodes on one database).
 *
 * In each run, on the same workspace and the same nodes, first durable worker updates (activity
 * changes through the API) and then routing: tasks created through the API by `concurrency`
 * loops per node, each reservation accepted and then completed through the API as soon as its
 * commit is heard. Reported: tasks routed per second (reservations created) and its ratio to the
 * updates per second, latency from a task's 201 to its reservation's commit, and full
 * lifecycles (create, reserve, accept, complete) per second.
 *
 *   npx tsx bench/routing.ts [--seconds 5] [--concurrency 8] [--workers 10000] [--no-postgres]
 *                            [--cpu-prof DIR]   (each node process writes a V8 CPU profile into DIR)
 *
 * Prints `RESULT {json}` last, which bench/run.ts puts into BENCHMARKS.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { createServices } from '../src/services/index.js';
import type { NewDomainEvent, Store } from '../src/services/ports/store.js';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const SECONDS = option('seconds', 5);
const CONCURRENCY = option('concurrency', 8);
const WORKERS = option('workers', 10_000);
const QUEUES = 100;
const cpuProfAt = process.argv.indexOf('--cpu-prof');
const CPU_PROF_DIR = cpuProfAt === -1 ? undefined : process.argv[cpuProfAt + 1];
const url = process.env.ROSTER_BENCH_DATABASE_URL ?? process.env.ROSTER_TEST_DATABASE_URL;

type Where = { kind: 'sqlite'; path: string } | { kind: 'postgres'; schema: string };

interface Job {
  where: Where;
  accountSid: string;
  authToken: string;
  workspaceSid: string;
  /** This node's workers, for the update phase. */
  workers: string[];
  /** Two available activities the update phase flips workers between. */
  activities: [string, string];
  updatesAt: number;
  routingAt: number;
  seconds: number;
  concurrency: number;
}

interface NodeResult {
  updates: number;
  updateErrors: number;
  created: number;
  createErrors: number;
  /** Task SID → when its 201 came (ms since the epoch, fractional). */
  answered: Record<string, number>;
  /** How long each create took, request to 201 (ms). */
  createMs: number[];
  /** Task SID → when the commit of its reservation was heard on this node. */
  reserved: Record<string, number>;
  /** Reservations created during the routing phase, on this node. */
  reservations: number;
  completed: number;
  lifecycleErrors: number;
  firstError?: string;
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleepUntil = async (at: number) => {
  while (Date.now() < at) await new Promise((r) => setTimeout(r, Math.min(20, at - Date.now())));
};

function openStore(where: Where, poolSize = 10): Store {
  return where.kind === 'sqlite'
    ? SqliteStore.open({ path: where.path })
    : PostgresStore.open({ connectionString: url!, schema: where.schema, poolSize });
}

/** The task and reservation SIDs of a reservation.created event, whatever the event's data calls them. */
function reservationOf(e: NewDomainEvent): { task: string; reservation: string } | null {
  if (e.type !== 'reservation.created') return null;
  const d = e.data as Record<string, unknown>;
  const task = (d.task_sid ?? d.taskSid ?? d.TaskSid) as string | undefined;
  return task ? { task, reservation: e.resourceSid } : null;
}

async function runNode(job: Job): Promise<NodeResult> {
  const store = openStore(job.where, job.concurrency * 2 + 2);
  const services = createServices(store, { onTimerError: () => undefined });
  const app = buildApp({ services, publicUrl: 'http://bench.test' });
  await app.ready();
  await services.timers.start();
  const auth = 'Basic ' + Buffer.from(`${job.accountSid}:${job.authToken}`).toString('base64');
  const ws = `/v1/Workspaces/${job.workspaceSid}`;
  const post = (path: string, body: string) =>
    app.inject({
      method: 'POST',
      url: ws + path,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: body,
    });
  const r: NodeResult = {
    updates: 0,
    updateErrors: 0,
    created: 0,
    createErrors: 0,
    answered: {},
    createMs: [],
    reserved: {},
    reservations: 0,
    completed: 0,
    lifecycleErrors: 0,
  };
  const fail = (what: string) => {
    r.firstError ??= what;
  };

  // Durable worker updates: each loop flips its own workers between two available activities,
  // the other one first (the workers start in activities[0]; setting that would change nothing,
  // which writes nothing and records no event).
  await sleepUntil(job.updatesAt);
  let end = job.updatesAt + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, loop) => {
      const mine = job.workers.filter((_, i) => i % job.concurrency === loop);
      for (let n = 0; Date.now() < end; n++) {
        const res = await post(
          `/Workers/${mine[n % mine.length]!}`,
          `ActivitySid=${job.activities[(Math.floor(n / mine.length) + 1) % 2]}`,
        );
        if (res.statusCode === 200) r.updates++;
        else {
          r.updateErrors++;
          fail(`update ${res.statusCode} ${res.body}`);
        }
      }
    }),
  );

  // Routing: agents accept each reservation as soon as its commit is heard here, then complete it.
  let routing = false;
  const lifecycles = new Set<Promise<void>>();
  store.onEvents((events) => {
    if (!routing) return;
    const at = nowMs();
    for (const e of events) {
      const res = reservationOf(e);
      if (!res) continue;
      r.reservations++;
      r.reserved[res.task] = at;
      const path = `/Tasks/${res.task}/Reservations/${res.reservation}`;
      const lifecycle = (async () => {
        const accepted = await post(path, 'ReservationStatus=accepted');
        const done = accepted.statusCode === 200 && (await post(path, 'ReservationStatus=completed'));
        if (done && done.statusCode === 200) r.completed++;
        else {
          r.lifecycleErrors++;
          fail(`accept/complete ${accepted.statusCode} ${accepted.body}`);
        }
      })();
      lifecycles.add(lifecycle);
      void lifecycle.finally(() => lifecycles.delete(lifecycle));
    }
  });
  await sleepUntil(job.routingAt);
  routing = true;
  end = job.routingAt + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (Date.now() < end) {
        const team = Math.floor(Math.random() * QUEUES);
        const sent = nowMs();
        const res = await post('/Tasks', `Attributes=${encodeURIComponent(JSON.stringify({ team }))}`);
        const at = nowMs();
        if (res.statusCode === 201) {
          r.created++;
          r.createMs.push(at - sent);
          r.answered[res.json<{ sid: string }>().sid] = at;
        } else {
          r.createErrors++;
          fail(`create ${res.statusCode} ${res.body}`);
        }
      }
    }),
  );
  routing = false;
  await Promise.all([...lifecycles]);
  await services.timers.stop();
  await app.close();
  await store.close();
  return r;
}

/** The workspace, its activities, 100 team queues, the workflow and the workers, through the services. */
async function setUp(where: Where) {
  const store = openStore(where);
  const services = createServices(store);
  const accountSid = newSid(SidPrefix.account);
  const authToken = newAuthToken();
  await services.accounts.ensure(accountSid, authToken);
  const ws = await services.workspaces.create(accountSid, { friendlyName: 'Routing bench' });
  const available = (await store.listActivities(ws.sid, {}, { pageSize: 10, page: 0 })).items.find(
    (a) => a.friendlyName === 'Available',
  )!.sid;
  const idle = (
    await services.activities.create(accountSid, ws.sid, { friendlyName: 'Idle', available: true })
  ).sid;
  const workers: string[] = [];
  // Workers first: each queue then reads its members once, in its create.
  const width = 8;
  for (let from = 0; from < WORKERS; from += width) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(width, WORKERS - from) }, (_, k) =>
        services.workers.create(accountSid, ws.sid, {
          friendlyName: `Agent ${from + k}`,
          activitySid: available,
          attributes: JSON.stringify({ team: (from + k) % QUEUES }),
        }),
      ),
    );
    workers.push(...batch.map((w) => w.sid));
  }
  const queues: string[] = [];
  for (let q = 0; q < QUEUES; q++) {
    queues.push(
      (
        await services.taskQueues.create(accountSid, ws.sid, {
          friendlyName: `Team ${q}`,
          targetWorkers: `team == ${q}`,
        })
      ).sid,
    );
  }
  await services.workflows.create(accountSid, ws.sid, {
    friendlyName: 'By team',
    configuration: JSON.stringify({
      task_routing: {
        filters: queues.map((queue, q) => ({ expression: `team == ${q}`, targets: [{ queue }] })),
      },
    }),
  });
  await store.close();
  return {
    accountSid,
    authToken,
    workspaceSid: ws.sid,
    workers,
    activities: [available, idle] as [string, string],
  };
}

function spawnNode(job: Job): Promise<NodeResult> {
  const profile = CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), '--node'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  child.stdin.end(JSON.stringify(job));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as NodeResult) : reject(new Error(`node exited ${code}`)),
    ),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface RoutingRun {
  store: string;
  nodes: number;
  updatesPerSecond: number;
  routedPerSecond: number;
  ratio: number;
  /** From the 201 to the commit of the reservation being heard (0 when it committed with the task). */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Reservations that committed with their task, before its 201. */
  reservedBefore201: number;
  /** The create request itself, sent → 201. */
  createP50Ms: number;
  createP99Ms: number;
  lifecyclesPerSecond: number;
  created: number;
  errors: number;
  firstError?: string;
}

async function run(label: string, where: Where, nodes: number): Promise<RoutingRun> {
  const started = performance.now();
  const base = await setUp(where);
  console.error(
    `  ${label}: set up ${WORKERS} workers, ${QUEUES} queues in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const updatesAt = Date.now() + 4000;
  const job = {
    where,
    accountSid: base.accountSid,
    authToken: base.authToken,
    workspaceSid: base.workspaceSid,
    activities: base.activities,
    updatesAt,
    routingAt: updatesAt + SECONDS * 1000 + 2000,
    seconds: SECONDS,
    concurrency: CONCURRENCY,
  };
  const results = await Promise.all(
    Array.from({ length: nodes }, (_, n) =>
      spawnNode({ ...job, workers: base.workers.filter((_, i) => i % nodes === n) }),
    ),
  );
  const answered: Record<string, number> = Object.assign({}, ...results.map((r) => r.answered));
  const reserved: Record<string, number> = Object.assign({}, ...results.map((r) => r.reserved));
  const raw = Object.entries(answered)
    .filter(([sid]) => reserved[sid] !== undefined)
    .map(([sid, at]) => reserved[sid]! - at);
  const latencies = raw.map((ms) => Math.max(0, ms)).sort((a, b) => a - b);
  const creates = results.flatMap((r) => r.createMs).sort((a, b) => a - b);
  const sum = (f: (r: NodeResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const updatesPerSecond = sum((r) => r.updates) / SECONDS;
  const routedPerSecond = sum((r) => r.reservations) / SECONDS;
  const out: RoutingRun = {
    store: where.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL',
    nodes,
    updatesPerSecond: Math.round(updatesPerSecond),
    routedPerSecond: Math.round(routedPerSecond),
    ratio: routedPerSecond / updatesPerSecond,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    reservedBefore201: raw.filter((ms) => ms <= 0).length,
    createP50Ms: percentile(creates, 50),
    createP99Ms: percentile(creates, 99),
    lifecyclesPerSecond: Math.round(sum((r) => r.completed) / SECONDS),
    created: sum((r) => r.created),
    errors: sum((r) => r.updateErrors + r.createErrors + r.lifecycleErrors),
    firstError: results.find((r) => r.firstError)?.firstError,
  };
  console.error(
    `  ${label}: ${out.updatesPerSecond} updates/s; ${out.routedPerSecond} tasks routed/s (${out.ratio.toFixed(2)}×); 201 → reservation p50 ${out.latencyP50Ms.toFixed(1)} ms, p99 ${out.latencyP99Ms.toFixed(1)} ms (${out.reservedBefore201} of ${raw.length} reserved before their 201); create p50 ${out.createP50Ms.toFixed(1)} ms, p99 ${out.createP99Ms.toFixed(1)} ms; ${out.lifecyclesPerSecond} lifecycles/s; ${out.errors} errors${out.firstError ? ` (first: ${out.firstError.slice(0, 200)})` : ''}`,
  );
  return out;
}

async function main(): Promise<void> {
  if (process.argv.includes('--node')) {
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    process.stdout.write(JSON.stringify(await runNode(JSON.parse(input) as Job)));
    return;
  }
  console.error(
    `Routing: ${WORKERS} workers, ${QUEUES} queues, ${CONCURRENCY} task creators per node, ${SECONDS} s per phase`,
  );
  const runs: RoutingRun[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-routing-'));
  try {
    runs.push(await run('SQLite, 1 node', { kind: 'sqlite', path: join(dir, 'roster.db') }, 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (url && !process.argv.includes('--no-postgres')) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      for (const nodes of [1, 2]) {
        const schema = `roster_bench_${randomBytes(4).toString('hex')}`;
        try {
          runs.push(
            await run(
              `PostgreSQL, ${nodes} node${nodes > 1 ? 's' : ''}`,
              { kind: 'postgres', schema },
              nodes,
            ),
          );
        } finally {
          await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        }
      }
    } finally {
      await admin.end();
    }
  }
  console.log(
    `RESULT ${JSON.stringify({ workers: WORKERS, queues: QUEUES, seconds: SECONDS, concurrency: CONCURRENCY, runs })}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
