/**
 * Issue 14's real-time statistics reads at 100,000 workers and 100,000 live tasks, each as a
 * ratio to the ceiling (bench/ceiling.ts: the same bytes from memory), measured in alternating
 * slices like the main run. Prints a Markdown table (copy it into BENCHMARKS.md).
 *
 *   npm run build && npx tsx bench/statistics-realtime.ts [--workers 100000 --tasks 100000 --queues 5
 *     --duration 4 --rounds 3 --slices 4 --connections 10]
 *
 * The store is seeded once into .bench/rt-data: `roster seed` for the workers, then queues of
 * everyone and pending tasks spread over the queues, three task channels and five priorities,
 * written straight into the store (the triggers keep the counts as for any write).
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newSid, SidPrefix } from '../src/domain/sid.js';
import { createServices } from '../src/services/index.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { startServer, stopServer } from './servers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA_DIR = join(ROOT, '.bench', 'rt-data');
const INFO = join(DATA_DIR, 'rt-store.json');
const MAIN = join(ROOT, 'dist', 'main.js');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}
const WORKERS = option('workers', 100_000);
const TASKS = option('tasks', 100_000);
const QUEUES = option('queues', 5);
const DURATION = option('duration', 4);
const ROUNDS = option('rounds', 3);
const SLICES = option('slices', 4);
const CONNECTIONS = option('connections', 10);
const log = (text: string) => process.stderr.write(text + '\n');

interface Info {
  workers: number;
  tasks: number;
  workspace: string;
  queues: string[];
  workflow: string;
}

async function ensureStore(): Promise<Info> {
  if (existsSync(INFO)) {
    const info = JSON.parse(readFileSync(INFO, 'utf8')) as Info;
    if (info.workers === WORKERS && info.tasks === TASKS && info.queues.length === QUEUES) return info;
  }
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  log(`Seeding ${WORKERS} workers...`);
  const out = execFileSync(process.execPath, [MAIN, 'seed', '--workers', String(WORKERS)], {
    cwd: ROOT,
    env: { ...process.env, ROSTER_DATA_DIR: DATA_DIR },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const workspace = out.trim().split('\n').at(-1)!;
  const account = (
    JSON.parse(readFileSync(join(DATA_DIR, 'credentials.json'), 'utf8')) as { account_sid: string }
  ).account_sid;
  const store = SqliteStore.open({ path: join(DATA_DIR, 'roster.db') });
  const services = createServices(store);
  log(`${QUEUES} queues of every worker...`);
  const queues: string[] = [];
  for (let q = 0; q < QUEUES; q++) {
    queues.push(
      (await services.taskQueues.create(account, workspace, { friendlyName: `Q${q}`, targetWorkers: '1==1' }))
        .sid,
    );
  }
  const workflow = (
    await services.workflows.create(account, workspace, {
      friendlyName: 'Main',
      configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queues[0] } } }),
    })
  ).sid;
  const channels = (await store.listTaskChannels(workspace, { pageSize: 10, page: 0 })).items
    .filter((c) => ['default', 'voice', 'chat'].includes(c.uniqueName))
    .map((c) => c.sid);
  log(`${TASKS} pending tasks...`);
  const start = Date.now() - TASKS * 10;
  for (let i = 0; i < TASKS; i += 1000) {
    await store.transaction(async (tx) => {
      for (let k = i; k < Math.min(TASKS, i + 1000); k++) {
        const at = start + k * 10;
        await tx.insertTask({
          sid: newSid(SidPrefix.task),
          accountSid: account,
          workspaceSid: workspace,
          attributes: '{}',
          requestedPriority: k % 5,
          priority: k % 5,
          timeout: 86_400,
          workflowSid: workflow,
          taskQueueSid: queues[k % QUEUES]!,
          taskChannelSid: channels[k % channels.length]!,
          routingTarget: null,
          ignoreCapacity: null,
          createdMs: at,
          virtualStartMs: at,
          queueEnteredMs: at,
          now: new Date(at),
        });
      }
    });
  }
  await store.close();
  const info: Info = { workers: WORKERS, tasks: TASKS, workspace, queues, workflow };
  writeFileSync(INFO, JSON.stringify(info, null, 2) + '\n');
  return info;
}

interface Measured {
  rps: number;
  p99: number;
  failed: number;
}

async function measure(
  url: string,
  auth: string,
  request: autocannon.Request,
  seconds: number,
): Promise<Measured> {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: auth },
    requests: [request],
  });
  return { rps: r.requests.average, p99: r.latency.p99, failed: r.non2xx + r.errors };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` first');
  const info = await ensureStore();
  const c = JSON.parse(readFileSync(join(DATA_DIR, 'credentials.json'), 'utf8')) as {
    account_sid: string;
    auth_token: string;
  };
  const auth = 'Basic ' + Buffer.from(`${c.account_sid}:${c.auth_token}`).toString('base64');
  const roster = await startServer(
    'roster',
    [MAIN, 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: '0',
      ROSTER_DATA_DIR: DATA_DIR,
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
    },
    /Server listening at (http:\/\/[0-9.:]+)/,
  );
  const ws = `/v1/Workspaces/${info.workspace}`;
  const bulkBody = JSON.stringify({ TaskQueueSids: info.queues });
  const scenarios: { label: string; request: autocannon.Request }[] = [
    { label: 'Workspace RealTimeStatistics', request: { method: 'GET', path: `${ws}/RealTimeStatistics` } },
    {
      label: 'Workspace RealTimeStatistics, TaskChannel=voice',
      request: { method: 'GET', path: `${ws}/RealTimeStatistics?TaskChannel=voice` },
    },
    {
      label: 'TaskQueue RealTimeStatistics',
      request: { method: 'GET', path: `${ws}/TaskQueues/${info.queues[0]}/RealTimeStatistics` },
    },
    {
      label: 'Workflow RealTimeStatistics',
      request: { method: 'GET', path: `${ws}/Workflows/${info.workflow}/RealTimeStatistics` },
    },
    {
      label: `TaskQueues RealTimeStatistics (bulk, ${info.queues.length} queues)`,
      request: {
        method: 'POST',
        path: `${ws}/TaskQueues/RealTimeStatistics`,
        headers: { 'content-type': 'application/json' },
        body: bulkBody,
      },
    },
  ];
  // The ceiling answers each with Roster's bytes.
  const captured: Record<string, { text: string; headers: Record<string, string> }> = {};
  for (const s of scenarios) {
    const r = s.request;
    const res = await fetch(roster.url + r.path!, {
      method: r.method,
      headers: { authorization: auth, ...(r.headers as Record<string, string> | undefined) },
      body: r.body as string | undefined,
    });
    if (!res.ok) throw new Error(`${r.method} ${r.path}: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { total_tasks?: number; task_queue_data?: unknown[] };
    if (body.total_tasks === 0) throw new Error(`${r.path}: no tasks counted`);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k))
        headers[k] = v;
    });
    captured[r.method === 'POST' ? 'POST' : `GET ${r.path}`] = { text: JSON.stringify(body), headers };
  }
  const file = join(ROOT, '.bench', 'rt-ceiling.json');
  writeFileSync(file, JSON.stringify(captured));
  const ceiling = await startServer(
    'ceiling',
    ['--import', 'tsx', join(ROOT, 'bench', 'ceiling.ts'), file],
    {},
    /Ceiling listening at (\S+)/,
  );
  const rows: string[] = [];
  try {
    for (const s of scenarios) {
      await measure(roster.url, auth, s.request, 1);
      await measure(ceiling.url, auth, s.request, 1);
      const ratios: number[] = [];
      const mine: Measured[] = [];
      const ceil: Measured[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        let r = 0;
        let cl = 0;
        const p99s: number[] = [];
        let failed = 0;
        for (let k = 0; k < SLICES; k++) {
          const order = (round + k) % 2 === 0 ? ['roster', 'ceiling'] : ['ceiling', 'roster'];
          for (const who of order) {
            const m = await measure(
              who === 'roster' ? roster.url : ceiling.url,
              auth,
              s.request,
              DURATION / SLICES,
            );
            if (who === 'roster') {
              r += m.rps / SLICES;
              p99s.push(m.p99);
              failed += m.failed;
            } else cl += m.rps / SLICES;
          }
        }
        mine.push({ rps: r, p99: median(p99s), failed });
        ceil.push({ rps: cl, p99: 0, failed: 0 });
        ratios.push(r / cl);
        log(`${s.label}: round ${round + 1} roster ${r.toFixed(0)} req/s, ceiling ${cl.toFixed(0)} req/s`);
      }
      const m = median(mine.map((x) => x.rps));
      rows.push(
        `| ${s.label} | ${m.toFixed(0)} | ${median(mine.map((x) => x.p99))} | ${median(ceil.map((x) => x.rps)).toFixed(0)} | **${median(ratios).toFixed(2)}×** | ${ratios.map((x) => x.toFixed(2)).join(', ')} | ${mine.some((x) => x.failed) ? 'FAILURES' : ''} |`,
      );
    }
  } finally {
    await stopServer(ceiling);
    await stopServer(roster);
  }
  console.log(
    `${info.workers.toLocaleString('en')} workers, ${info.tasks.toLocaleString('en')} live tasks, ${info.queues.length} queues of every worker; ` +
      `${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICES} alternating slices, ${DURATION} s a side; ` +
      `Node ${process.version}, ${os.cpus().length} cores (load average ${os.loadavg()[0]!.toFixed(1)} at the end)\n`,
  );
  console.log('| read | Roster req/s | p99 ms | ceiling req/s | ratio | per round | |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- | --- |');
  for (const r of rows) console.log(r);
}

await main();
