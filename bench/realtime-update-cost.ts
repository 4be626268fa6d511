/**
 * What keeping a TaskQueue's workers per activity (migration 012, `workers_queue_count_move`)
 * adds to a durable worker activity update: the same updates on two identical workspaces, one
 * with the trigger and one without, measured in alternation (8 updates in flight, through the
 * services: check, update, counts, membership, events, commit).
 *
 *   npx tsx bench/realtime-update-cost.ts [--seconds 1] [--rounds 6] [--workers 2000] [--queues 0,10]
 *   (PostgreSQL too when ROSTER_BENCH_DATABASE_URL or ROSTER_TEST_DATABASE_URL is set)
 *
 * With `--tasks`, instead: what the task counts and the waiting indexes (migration 012) add to a
 * task's life, measured the same way on SQLite: a task created (into a queue nobody is in, so it
 * waits) and canceled, with and without the tasks' count triggers and the four waiting indexes.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { createServices, type Services } from '../src/services/index.js';
import type { Store } from '../src/services/ports/store.js';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}
const SECONDS = Number(option('seconds', '1'));
const ROUNDS = Number(option('rounds', '6'));
const WORKERS = Number(option('workers', '2000'));
const QUEUES = option('queues', '0,10').split(',').map(Number);
const CONCURRENCY = 8;
const PG_URL = process.env.ROSTER_BENCH_DATABASE_URL ?? process.env.ROSTER_TEST_DATABASE_URL;

interface Setup {
  services: Services;
  store: Store;
  accountSid: string;
  workspaceSid: string;
  workers: string[];
  activities: [string, string];
  /** Each worker's activity (index in `activities`): they start in the first. */
  current: Map<string, number>;
  close(): Promise<void>;
}

async function populate(store: Store, queues: number): Promise<Omit<Setup, 'close'>> {
  const services = createServices(store);
  const accountSid = newSid(SidPrefix.account);
  await services.accounts.ensure(accountSid, newAuthToken());
  const ws = await services.workspaces.create(accountSid, { friendlyName: 'Bench' });
  const acts = (await store.listActivities(ws.sid, {}, { pageSize: 10, page: 0 })).items;
  const available = acts.find((a) => a.friendlyName === 'Available')!.sid;
  const unavailable = acts.find((a) => a.friendlyName === 'Unavailable')!.sid;
  for (let q = 0; q < queues; q++) {
    await services.taskQueues.create(accountSid, ws.sid, { friendlyName: `Q${q}`, targetWorkers: '1==1' });
  }
  const workers: string[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const w = await services.workers.create(accountSid, ws.sid, {
      friendlyName: `W${i}`,
      activitySid: available,
    });
    workers.push(w.sid);
  }
  return {
    services,
    store,
    accountSid,
    workspaceSid: ws.sid,
    workers,
    activities: [available, unavailable],
    current: new Map(),
  };
}

async function sqliteSetup(queues: number, withTrigger: boolean): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-rt-cost-'));
  const path = join(dir, 'roster.db');
  const store = SqliteStore.open({ path });
  if (!withTrigger) {
    const db = new Database(path);
    db.exec('DROP TRIGGER workers_queue_count_move');
    db.close();
  }
  const s = await populate(store, queues);
  return {
    ...s,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresSetup(queues: number, withTrigger: boolean): Promise<Setup> {
  const schema = `roster_bench_${randomBytes(4).toString('hex')}`;
  const store = PostgresStore.open({ connectionString: PG_URL!, schema, poolSize: CONCURRENCY });
  await store.ready();
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  if (!withTrigger) await admin(`DROP TRIGGER workers_queue_count_move ON ${schema}.workers`);
  const s = await populate(store, queues);
  return {
    ...s,
    close: async () => {
      await store.close();
      await admin(`DROP SCHEMA ${schema} CASCADE`);
    },
  };
}

/**
 * Activity updates over `seconds`, every worker flipping between two activities: how many a
 * second, and this process's CPU time per update (SQLite runs in this process, so that is all of
 * its work, and less at the mercy of other load on the machine than the wall clock).
 */
async function measure(s: Setup, seconds: number): Promise<Rate> {
  let updates = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, loop) => {
      const mine = s.workers.filter((_, i) => i % CONCURRENCY === loop);
      for (let n = 0; Date.now() < end; n++) {
        // Each loop flips its own workers, every one to the other activity than it is in.
        const worker = mine[n % mine.length]!;
        const next = 1 - (s.current.get(worker) ?? 0);
        s.current.set(worker, next);
        await s.services.workers.update(
          s.accountSid,
          s.workspaceSid,
          worker,
          { activitySid: s.activities[next]! },
          undefined,
        );
        updates++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rate: updates / ((performance.now() - started) / 1000),
    cpuUs: (used.user + used.system) / updates,
  };
}

/** The statements of migration 012 that a task's writes run, dropped for the comparison. */
const TASK_SIDE = [
  'DROP TRIGGER tasks_count_insert',
  'DROP TRIGGER tasks_count_update',
  'DROP TRIGGER tasks_count_delete',
  'DROP INDEX tasks_waiting_in_workspace',
  'DROP INDEX tasks_waiting_in_queue',
  'DROP INDEX tasks_waiting_in_queue_since',
  'DROP INDEX tasks_waiting_in_workflow',
];

interface TaskSetup {
  services: Services;
  accountSid: string;
  workspaceSid: string;
  workflowSid: string;
  close(): Promise<void>;
}

async function taskSetup(withCounts: boolean): Promise<TaskSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-rt-cost-'));
  const path = join(dir, 'roster.db');
  const store = SqliteStore.open({ path });
  if (!withCounts) {
    const db = new Database(path);
    for (const statement of TASK_SIDE) db.exec(statement);
    db.close();
  }
  const services = createServices(store);
  const accountSid = newSid(SidPrefix.account);
  await services.accounts.ensure(accountSid, newAuthToken());
  const ws = await services.workspaces.create(accountSid, { friendlyName: 'Bench' });
  const queue = await services.taskQueues.create(accountSid, ws.sid, {
    friendlyName: 'Q',
    targetWorkers: '1==1',
  });
  const workflow = await services.workflows.create(accountSid, ws.sid, {
    friendlyName: 'F',
    configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queue.sid } } }),
  });
  return {
    services,
    accountSid,
    workspaceSid: ws.sid,
    workflowSid: workflow.sid,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Tasks created and canceled over `seconds`: how many a second, and CPU µs per task (both writes). */
async function measureTasks(s: TaskSetup, seconds: number): Promise<Rate> {
  let tasks = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, loop) => {
      for (let n = 0; Date.now() < end; n++) {
        const task = await s.services.tasks.create(s.accountSid, s.workspaceSid, {
          workflowSid: s.workflowSid,
          priority: (n + loop) % 3,
          taskChannel: n % 2 ? 'voice' : 'chat',
        });
        await s.services.tasks.update(
          s.accountSid,
          s.workspaceSid,
          task.sid,
          { assignmentStatus: 'canceled', reason: 'bench' },
          undefined,
        );
        tasks++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { rate: tasks / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / tasks };
}

interface Rate {
  rate: number;
  cpuUs: number;
}

/**
 * Measures two setups in alternation (which goes first alternates, so that the machine's drift
 * hits both alike) after a warm-up of each; the medians, formatted.
 */
async function compare<S>(on: S, off: S, measure: (s: S, seconds: number) => Promise<Rate>) {
  const runs: Record<'on' | 'off', Rate[]> = { on: [], off: [] };
  await measure(on, 1);
  await measure(off, 1);
  for (let r = 0; r < ROUNDS; r++) {
    for (const which of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      runs[which].push(await measure(which === 'on' ? on : off, SECONDS));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  return {
    rate: (w: 'on' | 'off') => median(runs[w].map((x) => x.rate)).toFixed(0),
    cpu: (w: 'on' | 'off') => median(runs[w].map((x) => x.cpuUs)).toFixed(0),
  };
}

async function mainTasks(): Promise<void> {
  console.log(
    `SQLite; ${CONCURRENCY} tasks in flight; ${ROUNDS} rounds of ${SECONDS} s a side in alternating order; Node ${process.version}\n`,
  );
  console.log('| task created and canceled | tasks/s | CPU µs/task |');
  console.log('| --- | ---: | ---: |');
  const on = await taskSetup(true);
  const off = await taskSetup(false);
  const { rate, cpu } = await compare(on, off, measureTasks);
  await on.close();
  await off.close();
  console.log(`| with the task counts and waiting indexes | ${rate('on')} | ${cpu('on')} |`);
  console.log(`| without them | ${rate('off')} | ${cpu('off')} |`);
}

async function main(): Promise<void> {
  const backends: ['sqlite' | 'postgres', typeof sqliteSetup][] = [['sqlite', sqliteSetup]];
  if (PG_URL) backends.push(['postgres', postgresSetup]);
  console.log(
    `${WORKERS} workers, each in every one of the queues; ${CONCURRENCY} updates in flight; ` +
      `${ROUNDS} rounds of ${SECONDS} s a side in alternating order; Node ${process.version}\n`,
  );
  console.log(
    '| store | queues per worker | with the trigger: updates/s | without | CPU µs/update with | without |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, setUp] of backends) {
    for (const queues of QUEUES) {
      const on = await setUp(queues, true);
      const off = await setUp(queues, false);
      const { rate, cpu } = await compare(on, off, measure);
      await on.close();
      await off.close();
      console.log(`| ${name} | ${queues} | ${rate('on')} | ${rate('off')} | ${cpu('on')} | ${cpu('off')} |`);
    }
  }
}

await (process.argv.includes('--tasks') ? mainTasks() : main());
