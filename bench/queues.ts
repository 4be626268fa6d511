/**
 * Issue 11 at scale: one workspace of 100,000 workers and 1,000 TaskQueues (SQLite), served by
 * `roster serve` and measured over HTTP:
 * - a queue's create and TargetWorkers change (each a pass over every worker, in chunks), and
 *   how long other reads and writes wait while one runs;
 * - a worker's attribute update (re-evaluates the 1,000 queues for that worker: O(queues));
 * - TargetWorkersExpression pages, Workers?TaskQueueSid= pages and TaskQueues?WorkerSid= as
 *   req/s ratios to the ceiling (bench/ceiling.ts: the same bytes from memory), alternating;
 * - memory: the server's RSS, and the membership rows and their bytes on disk.
 *
 *   npm run bench:queues [-- --workers 100000 --queues 1000 --duration 4 --rounds 3 --no-write]
 *
 * `npm run bench` runs it as its issue-11 section (`--no-queues` skips it). The store is built
 * afresh in .bench/queues (about half a minute): workers by bulk loading, queues and their
 * membership through the store's port, evaluated here once, so that setting up 1,000 queues
 * does not take 1,000 passes.
 */
import Database from 'better-sqlite3';
import autocannon from 'autocannon';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveCredentials } from '../src/cli/credentials.js';
import { newSid, SidPrefix } from '../src/domain/sid.js';
import {
  compileTargetWorkers,
  matchesQueue,
  readsChangingWorkerFields,
  workerDocument,
} from '../src/domain/task-queues.js';
import { createServices } from '../src/services/index.js';
import type { MemberCandidate } from '../src/services/ports/store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { startServer, stopServer } from './servers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(ROOT, '.bench', 'queues');
const MAIN = join(ROOT, 'dist', 'main.js');
const log = (text: string) => process.stderr.write(text + '\n');

export interface QueuesBenchOptions {
  workers: number;
  queues: number;
  /** Seconds per measurement of a read, split into alternating slices with the ceiling. */
  duration: number;
  rounds: number;
}

// ---- a deterministic population

let seed = 11;
const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const int = (n: number) => Math.floor(random() * n);
const LANGUAGES = ['en', 'es', 'fr', 'de', 'pt'];
const CITIES = ['Lisbon', 'Porto', 'Madrid', 'Paris', 'Berlin', 'Rome', 'Oslo', 'Dublin', 'Vienna', 'Prague'];

function attributes(): string {
  const skills = new Set<string>();
  while (skills.size < 3) skills.add(`s${int(50)}`);
  return JSON.stringify({
    skills: [...skills],
    team: `t${int(100)}`,
    level: 1 + int(5),
    languages: LANGUAGES.filter(() => random() < 0.3),
    location: { city: CITIES[int(CITIES.length)] },
  });
}

/** 1,000 expressions of the shapes queues use; each matches about 1–6% of the workers. */
function expression(i: number): string {
  switch (i % 5) {
    case 0:
      return `skills HAS 's${i % 50}'`;
    case 1:
      return `team == 't${i % 100}'`;
    case 2:
      return `level >= ${1 + (i % 5)} AND languages HAS '${LANGUAGES[i % 5]}' AND team IN ['t${i % 100}', 't${(i + 7) % 100}']`;
    case 3:
      return `location.city == '${CITIES[i % 10]}' AND skills HAS 's${(i * 7) % 50}'`;
    default:
      return `worker.activity_name == 'Available' AND team == 't${i % 100}'`;
  }
}

// ---- setup

interface Setup {
  auth: string;
  workspace: string;
  queues: string[];
  sample: string[];
  membershipRows: number;
  setupSeconds: number;
}

async function build(o: QueuesBenchOptions): Promise<Setup> {
  const started = performance.now();
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const store = SqliteStore.open({ path: join(DIR, 'roster.db') });
  try {
    const services = createServices(store);
    const creds = resolveCredentials(DIR, null);
    await services.accounts.ensure(creds.accountSid, creds.authToken);
    const ws = await services.workspaces.create(creds.accountSid, { friendlyName: 'Queues bench' });
    const now = new Date();
    for (let from = 0; from < o.workers; from += 5_000) {
      const batch = Array.from({ length: Math.min(5_000, o.workers - from) }, (_, i) => ({
        sid: newSid(SidPrefix.worker),
        accountSid: creds.accountSid,
        workspaceSid: ws.sid,
        friendlyName: `W${from + i}`,
        activitySid: ws.defaultActivitySid,
        attributes: attributes(),
        now,
      }));
      await store.transaction((tx) =>
        tx.insertWorkers(ws.sid, batch, () => ({ capacity: 1, available: true })),
      );
    }
    log(`  ${o.workers.toLocaleString('en')} workers loaded`);
    const candidates: MemberCandidate[] = [];
    for (let after = 0; ;) {
      const page = await store.memberCandidates(ws.sid, after, 10_000);
      if (page.length === 0) break;
      candidates.push(...page);
      after = page[page.length - 1]!.id;
    }
    const docs = candidates.map((k) => workerDocument(k));
    const queues: string[] = [];
    let membershipRows = 0;
    for (let from = 0; from < o.queues; from += 50) {
      await store.transaction(async (tx) => {
        for (let i = from; i < Math.min(from + 50, o.queues); i++) {
          const sid = newSid(SidPrefix.taskQueue);
          const targetWorkers = expression(i);
          const compiled = compileTargetWorkers(targetWorkers);
          await tx.insertTaskQueue({
            sid,
            accountSid: creds.accountSid,
            workspaceSid: ws.sid,
            friendlyName: `Queue ${i}`,
            targetWorkers,
            readsWorkerFields: readsChangingWorkerFields(compiled),
            maxReservedWorkers: 1,
            taskOrder: 'FIFO',
            reservationActivitySid: null,
            assignmentActivitySid: null,
            now,
          });
          const members = candidates.filter((_, k) => matchesQueue(compiled, docs[k]!));
          await tx.addQueueMembers(ws.sid, sid, members);
          membershipRows += members.length;
          queues.push(sid);
        }
      });
    }
    log(`  ${o.queues} queues, ${membershipRows.toLocaleString('en')} membership rows`);
    const step = Math.max(1, Math.floor(candidates.length / 1000));
    const sample = candidates.filter((_, i) => i % step === 0).map((k) => k.sid);
    return {
      auth: 'Basic ' + Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64'),
      workspace: ws.sid,
      queues,
      sample,
      membershipRows,
      setupSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await store.close();
  }
}

/** The membership table's and its index's bytes on disk (SQLite's dbstat). */
function membershipBytes(): number | null {
  const db = new Database(join(DIR, 'roster.db'), { readonly: true });
  try {
    const row = db
      .prepare(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('task_queue_members', 'task_queue_members_by_worker')",
      )
      .get() as { bytes: number | null };
    return row.bytes;
  } catch {
    return null; // dbstat not compiled in
  } finally {
    db.close();
  }
}

// ---- servers and measurements

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function rps(url: string, auth: string, path: string, seconds: number, connections = 10) {
  const r = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: auth },
    requests: [{ method: 'GET', path }],
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

async function timed(f: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const res = await f();
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - started;
}

export async function runQueuesBench(o: QueuesBenchOptions): Promise<string> {
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build`');
  log(`Issue 11: ${o.workers.toLocaleString('en')} workers × ${o.queues} queues, building the store...`);
  const setup = await build(o);
  const roster = await startServer(
    'roster',
    [MAIN, 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: '0',
      ROSTER_DATA_DIR: DIR,
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
      ROSTER_LOG_LEVEL: 'info',
    },
    /Server listening at (http:\/\/[0-9.:]+)/,
  );
  const { auth } = setup;
  const base = `/v1/Workspaces/${setup.workspace}`;
  const headers = { authorization: auth };
  const form = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
  const post = (path: string, body: Record<string, string>) =>
    fetch(roster.url + path, { method: 'POST', headers: form, body: new URLSearchParams(body).toString() });
  const get = (path: string) => fetch(roster.url + path, { headers });
  try {
    const idleRss = rssMiB(roster.child.pid!);
    // Warm the compiled-expression cache and the page cache as a running server has them.
    await timed(() => post(`${base}/Workers/${setup.sample[0]}`, { Attributes: attributes() }));

    // Queue creates and TargetWorkers changes, with a read and a write probe running meanwhile.
    const creates: number[] = [];
    const changes: number[] = [];
    const probeReads: number[] = [];
    const probeWrites: number[] = [];
    const made: string[] = [];
    const withProbes = async (write: () => Promise<Response>): Promise<{ ms: number; sid: string }> => {
      let done = false;
      const probe = async (one: () => Promise<number>, into: number[]) => {
        while (!done) into.push(await one());
      };
      let n = 0;
      const probes = Promise.all([
        probe(
          () => timed(() => get(`${base}/Workers/${setup.sample[n++ % setup.sample.length]}`)),
          probeReads,
        ),
        probe(
          () =>
            timed(() =>
              post(`${base}/Workers/${setup.sample[n++ % setup.sample.length]}`, {
                Attributes: attributes(),
              }),
            ),
          probeWrites,
        ),
      ]);
      const started = performance.now();
      const res = await write();
      const ms = performance.now() - started;
      done = true;
      await probes;
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      return { ms, sid: ((await res.json()) as { sid: string }).sid };
    };
    // Alone first: what the pass costs with nothing else to serve.
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const res = await post(`${base}/TaskQueues`, {
        FriendlyName: `Alone ${i}`,
        TargetWorkers: `skills HAS 's${i + 10}' OR level == 5`,
      });
      alone.push(performance.now() - started);
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      made.push(((await res.json()) as { sid: string }).sid);
    }
    for (let i = 0; i < 5; i++) {
      const r = await withProbes(() =>
        post(`${base}/TaskQueues`, {
          FriendlyName: `Bench ${i}`,
          TargetWorkers: `skills HAS 's${i}' OR level == 5`,
        }),
      );
      creates.push(r.ms);
      made.push(r.sid);
    }
    for (let i = 0; i < 5; i++) {
      const r = await withProbes(() =>
        post(`${base}/TaskQueues/${made[i]}`, {
          TargetWorkers: `team IN ['t${i}', 't${i + 1}'] OR level >= 4`,
        }),
      );
      changes.push(r.ms);
    }
    for (const sid of made)
      await fetch(`${roster.url}${base}/TaskQueues/${sid}`, { method: 'DELETE', headers });

    // Worker attribute updates: each re-evaluates the workspace's queues for that worker.
    log('  worker attribute updates...');
    let k = 0;
    const updates = await autocannon({
      url: roster.url,
      connections: 4,
      duration: o.duration * 2,
      headers: form,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => ({
            ...req,
            path: `${base}/Workers/${setup.sample[k++ % setup.sample.length]}`,
            body: `Attributes=${encodeURIComponent(attributes())}`,
          }),
        },
      ],
    });
    if (updates.non2xx > 0 || updates.errors > 0) throw new Error('worker updates failed');

    // Reads against the ceiling, alternating slices.
    const reads: { label: string; path: string }[] = [
      {
        label: 'Workers?TargetWorkersExpression= page (50)',
        path: `${base}/Workers?TargetWorkersExpression=${encodeURIComponent("skills HAS 's3' AND level >= 3")}&PageSize=50`,
      },
      {
        label: 'Workers?TaskQueueSid= page (50)',
        path: `${base}/Workers?TaskQueueSid=${setup.queues[0]}&PageSize=50`,
      },
      {
        label: 'TaskQueues?WorkerSid= (one worker)',
        path: `${base}/TaskQueues?WorkerSid=${setup.sample[500]}&PageSize=50`,
      },
    ];
    const captured: Record<string, { text: string; headers: Record<string, string> }> = {};
    for (const r of reads) {
      const res = await get(r.path);
      if (!res.ok) throw new Error(`${r.path}: ${res.status}`);
      const h: Record<string, string> = {};
      res.headers.forEach((v, name) => {
        if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(name))
          h[name] = v;
      });
      captured[`GET ${r.path}`] = { text: await res.text(), headers: h };
    }
    const responsesFile = join(DIR, 'ceiling-responses.json');
    writeFileSync(responsesFile, JSON.stringify(captured));
    const ceiling = await startServer(
      'ceiling',
      ['--import', 'tsx', join(ROOT, 'bench', 'ceiling.ts'), responsesFile],
      {},
      /Ceiling listening at (\S+)/,
    );
    const readRows: string[] = [];
    try {
      for (const r of reads) {
        log(`  ${r.label}...`);
        await rps(roster.url, auth, r.path, 1);
        await rps(ceiling.url, auth, r.path, 1);
        const ratios: number[] = [];
        const mine: number[] = [];
        const theirs: number[] = [];
        for (let round = 0; round < o.rounds; round++) {
          const slice = o.duration / 2;
          let a = 0;
          let b = 0;
          for (const who of round % 2 === 0 ? ['roster', 'ceiling'] : ['ceiling', 'roster']) {
            for (let s = 0; s < 2; s++) {
              const v = await rps(who === 'roster' ? roster.url : ceiling.url, auth, r.path, slice);
              if (who === 'roster') a += v / 2;
              else b += v / 2;
            }
          }
          mine.push(a);
          theirs.push(b);
          ratios.push(a / b);
        }
        readRows.push(
          `| ${r.label} | ${median(mine).toFixed(0)} | ${median(theirs).toFixed(0)} | **${median(ratios).toFixed(2)}×** | ${ratios.map((x) => x.toFixed(2)).join(', ')} |`,
        );
      }
    } finally {
      await stopServer(ceiling);
    }
    const loadedRss = rssMiB(roster.child.pid!);
    await stopServer(roster);
    const bytes = membershipBytes();
    log('  expression evaluation (bench/expressions.ts)...');
    const evaluation = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench', 'expressions.ts')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    // Its table set apart from the lines around it, as Markdown wants.
    const evaluationTable =
      evaluation.status === 0
        ? evaluation.stdout
            .trim()
            .replace(/\n\|/, '\n\n|')
            .replace(/\n(Lowest ratio)/, '\n\n$1')
        : `Not measured (bench/expressions.ts failed).`;
    const ms = (v: number) => v.toFixed(0);
    const cpu = os.cpus();
    return `<!-- bench:queues:start -->
### Issue 11: TaskQueues at ${o.workers.toLocaleString('en')} workers × ${o.queues.toLocaleString('en')} queues (SQLite)

Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ', ',
      )} (the machine is shared and was loaded: ratios to the in-run ceiling are what to read, not absolute numbers). \`npm run bench:queues\`, or the issue-11 section of \`npm run bench\` (\`--no-queues\` skips it). One workspace; each worker has 3 of 50 skills, one of 100 teams, a level, languages and a city; the queues' expressions (five shapes, one in five reading \`activity_name\`) each match about 1–6% of the workers: ${setup.membershipRows.toLocaleString('en')} membership rows. Store built in ${setup.setupSeconds.toFixed(0)} s (bulk loading, not the API).

| Write (over HTTP, one at a time) | p50 ms | max ms | Longest wait of a concurrent read / write meanwhile, ms |
| --- | ---: | ---: | ---: |
| Queue create alone (a pass over every worker, 2,000 a transaction) | ${ms(median(alone))} | ${ms(Math.max(...alone))} | (none running) |
| Queue create, with a read and a write probe looping meanwhile | ${ms(median(creates))} | ${ms(Math.max(...creates))} | ${ms(percentile(probeReads, 100))} / ${ms(percentile(probeWrites, 100))} (p50 ${ms(median(probeReads))} / ${ms(median(probeWrites))}, over creates and changes) |
| Queue TargetWorkers change, with the probes | ${ms(median(changes))} | ${ms(Math.max(...changes))} | (as above) |
| Worker attribute update, 4 connections (re-evaluates ${o.queues.toLocaleString('en')} queues) | ${updates.latency.p50} | p99 ${updates.latency.p99} | ${updates.requests.average.toFixed(0)} updates/s |

| Read (10 connections) | Roster req/s | Ceiling req/s | Ratio | Ratio per round |
| --- | ---: | ---: | ---: | ---: |
${readRows.join('\n')}

| Memory | Value |
| --- | --- |
| Server RSS after start-up | ${idleRss.toFixed(0)} MiB |
| Server RSS after the run (1,000 compiled expressions cached) | ${loadedRss.toFixed(0)} MiB |
| Membership on disk (table and its by-worker index) | ${bytes === null ? 'not measured (no dbstat)' : `${(bytes / 2 ** 20).toFixed(0)} MiB, ${(bytes / setup.membershipRows).toFixed(1)} bytes a row`} |

Expression evaluation (\`bench/expressions.ts\`): a compiled predicate against a hand-written JavaScript function doing the same test, over the same workers, alternating slices; target ≥ 0.3×.

${evaluationTable}
<!-- bench:queues:end -->`;
  } finally {
    await stopServer(roster);
  }
}

/** Puts the section into BENCHMARKS.md, replacing the previous one. */
export function writeQueuesSection(section: string): void {
  const file = join(ROOT, 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const re = /<!-- bench:queues:start -->[\s\S]*<!-- bench:queues:end -->/;
  writeFileSync(
    file,
    re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`,
  );
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const v = Number(process.argv[at + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const section = await runQueuesBench({
    workers: option('workers', 100_000),
    queues: option('queues', 1_000),
    duration: option('duration', 4),
    rounds: option('rounds', 3),
  });
  process.stdout.write(`\n${section}\n`);
  if (!process.argv.includes('--no-write')) {
    writeQueuesSection(section);
    log('Wrote BENCHMARKS.md');
  }
}
