/**
 * `npm run bench`: Roster on a seeded store against a bare Fastify "ceiling" that answers
 * the same bytes from memory, with the same autocannon settings, interleaved. Writes the
 * results into BENCHMARKS.md. Only ever talks to 127.0.0.1.
 *
 *   npm run bench [-- --duration 5 --rounds 5 --slices 5 --connections 10 --workers 1000000 --profile --no-write --no-postgres --no-streams --no-queues --no-routing --no-scale --no-rt-statistics --no-subscribers --no-cumulative --scale-postgres-workers N]
 *   npm run bench -- --only-routing     (only the routing section, bench/routing.ts)
 *
 * The issue-11 section (TaskQueues at 100,000 workers × 1,000 queues, bench/queues.ts) and the
 * routing section are written into BENCHMARKS.md apart from the main results; `--no-queues` and
 * `--no-routing` skip them; so does `--no-rt-statistics` for issue 14's real-time reads
 * (bench/statistics-realtime.ts), `--no-subscribers` for its 1,000 statistics subscribers while
 * routing runs (bench/statistics-subscribers.ts), and `--no-cumulative` for its cumulative reads
 * (bench/statistics-cumulative.ts, 100,000 events over 30 days). The issue-15 section (administrative writes on the big workspace,
 * bench/scale.ts) is part of the main results; `--no-scale` skips it.
 */
import Database from 'better-sqlite3';
import autocannon from 'autocannon';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile } from './profile.js';
import { startServer, stopServer, type Server } from './servers.js';
import { runQueuesBench, writeQueuesSection } from './queues.js';
import type { RoutingRun } from './routing.js';
import { runScaleBench } from './scale.js';
import { runSubscribersBench, subscribersSection } from './statistics-subscribers.js';
import { runStreamBench } from './stream.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH_DIR = join(ROOT, '.bench');
const DATA_DIR = join(BENCH_DIR, 'data');
const STORE_INFO = join(DATA_DIR, 'bench-store.json');
const MAIN = join(ROOT, 'dist', 'main.js');

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const v = Number(process.argv[at + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const USAGE = `npm run bench [-- options]: Roster against a bare Fastify ceiling on 127.0.0.1; results into BENCHMARKS.md

  --duration S --rounds N --slices N --connections N   load shape (defaults 5, 5, 5, 10)
  --workers N                 workers in the big seeded workspace (default 1,000,000)
  --scale-postgres-workers N  workers seeded into PostgreSQL for the scale section (default 100,000)
  --profile                   CPU-profile the server during the worker-update runs
  --no-write                  print the results, leave BENCHMARKS.md alone
  --no-postgres --no-streams --no-queues --no-routing --no-scale --no-rt-statistics --no-subscribers
                              --no-cumulative
                              skip a section
  --only-routing              only the routing section (bench/routing.ts)
  --help                      this text`;
const VALUED = new Set(['duration', 'rounds', 'slices', 'connections', 'workers', 'scale-postgres-workers']);
const FLAGS = new Set([
  'profile',
  'no-write',
  'no-postgres',
  'no-streams',
  'no-queues',
  'no-routing',
  'no-scale',
  'no-rt-statistics',
  'no-subscribers',
  'no-cumulative',
  'only-routing',
]);
{
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    if (VALUED.has(name)) i++;
    else if (!FLAGS.has(name)) {
      console.error(`Unknown option ${args[i]}\n\n${USAGE}`);
      process.exit(2);
    }
  }
}

const DURATION = option('duration', 5);
const ROUNDS = option('rounds', 5);
const SLICES = option('slices', 5);
const CONNECTIONS = option('connections', 10);
const WORKERS = option('workers', 1_000_000);
const SMALL_WORKERS = 10;
/** Workers seeded into PostgreSQL for the issue-15 section there (`--scale-postgres-workers`). */
const SCALE_PG_WORKERS = option('scale-postgres-workers', 100_000);

interface StoreInfo {
  workers: number;
  bigWorkspace: string;
  smallWorkspace: string;
  seedSeconds: number;
  seedCpuSeconds: number;
  seededAt: string;
}

const log = (text: string) => process.stderr.write(text + '\n');

/** What the ceiling replays: Roster's body and headers, so that both put the same bytes on the wire. */
interface CapturedResponse {
  text: string;
  headers: Record<string, string>;
}
/** Headers Node's HTTP server writes by itself are left for the ceiling's server to write. */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
async function captureResponse(res: Response): Promise<CapturedResponse> {
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!OWN_HEADERS.has(name)) headers[name] = value;
  });
  return { text: await res.text(), headers };
}

function rosterEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: '0',
    ROSTER_DATA_DIR: DATA_DIR,
    ROSTER_RATE_LIMIT_READS: '0',
    ROSTER_RATE_LIMIT_WRITES: '0',
    ROSTER_LOG_LEVEL: 'info',
    ...extra,
  };
}

function startRoster(name: string, extra: Record<string, string> = {}, nodeArgs: string[] = []) {
  return startServer(
    name,
    [...nodeArgs, MAIN, 'serve'],
    rosterEnv(extra),
    /Server listening at (http:\/\/[0-9.:]+)/,
  );
}

/** Runs `roster seed` as users do; returns the workspace SID (its last line of stdout). */
function seed(workers: number): { workspace: string; seconds: number; cpuSeconds: number } {
  const started = performance.now();
  const before = readCpu();
  const out = execFileSync(process.execPath, [MAIN, 'seed', '--workers', String(workers)], {
    cwd: ROOT,
    env: { ...process.env, ROSTER_DATA_DIR: DATA_DIR },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  const cpuSeconds = readCpu() - before;
  const workspace = out.trim().split('\n').at(-1)!;
  if (!/^WS[0-9a-f]{32}$/.test(workspace)) throw new Error(`seed printed no workspace SID:\n${out}`);
  return { workspace, seconds: (performance.now() - started) / 1000, cpuSeconds };
}

/** `count` worker SIDs of the workspace, spread evenly over its rows. */
function sampleWorkers(workspaceSid: string, count: number): string[] {
  const db = new Database(join(DATA_DIR, 'roster.db'), { readonly: true });
  try {
    const ids = db
      .prepare('SELECT min(id) AS lo, max(id) AS hi FROM workers WHERE workspace_sid = ?')
      .get(workspaceSid) as { lo: number; hi: number };
    const at = db.prepare('SELECT sid FROM workers WHERE workspace_sid = ? AND id >= ? ORDER BY id LIMIT 1');
    const step = (ids.hi - ids.lo) / count;
    return Array.from({ length: count }, (_, i) => {
      const row = at.get(workspaceSid, Math.floor(ids.lo + i * step)) as { sid: string };
      return row.sid;
    });
  } finally {
    db.close();
  }
}

/** CPU seconds used by finished child processes (user + system). */
function readCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[13]) + Number(stat[14]); // cutime + cstime
  return ticks / 100;
}

/** The seeded store, from .bench/ when it is there with the same size, else seeded anew. */
function ensureStore(): StoreInfo {
  if (existsSync(STORE_INFO)) {
    const info = JSON.parse(readFileSync(STORE_INFO, 'utf8')) as StoreInfo;
    if (info.workers === WORKERS) return info;
  }
  rmSync(DATA_DIR, { recursive: true, force: true });
  mkdirSync(DATA_DIR, { recursive: true });
  log(`Seeding ${WORKERS.toLocaleString('en')} workers into ${DATA_DIR} (cached for later runs)...`);
  const big = seed(WORKERS);
  log(`  ${big.seconds.toFixed(1)} s (${big.cpuSeconds.toFixed(1)} s CPU)`);
  const small = seed(SMALL_WORKERS);
  const info: StoreInfo = {
    workers: WORKERS,
    bigWorkspace: big.workspace,
    smallWorkspace: small.workspace,
    seedSeconds: big.seconds,
    seedCpuSeconds: big.cpuSeconds,
    seededAt: new Date().toISOString(),
  };
  writeFileSync(STORE_INFO, JSON.stringify(info, null, 2) + '\n');
  return info;
}

function credentials(): string {
  const c = JSON.parse(readFileSync(join(DATA_DIR, 'credentials.json'), 'utf8')) as {
    account_sid: string;
    auth_token: string;
  };
  return 'Basic ' + Buffer.from(`${c.account_sid}:${c.auth_token}`).toString('base64');
}

/** One kind of load; `requests` builds a fresh request list (with its own counters) per run. */
interface Scenario {
  name: string;
  label: string;
  requests: () => autocannon.Request[];
  /** Which Roster server it runs against. */
  roster: 'normal' | 'full';
}

interface Measurement {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function measure(url: string, auth: string, requests: autocannon.Request[], seconds: number) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: auth },
    requests,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  } satisfies Measurement;
}

/** Slices of equal length as one measurement: mean throughput, median latencies, all failures. */
function combine(slices: Measurement[]): Measurement {
  return {
    rps: slices.reduce((sum, m) => sum + m.rps, 0) / slices.length,
    p50: median(slices.map((m) => m.p50)),
    p90: median(slices.map((m) => m.p90)),
    p99: median(slices.map((m) => m.p99)),
    non2xx: slices.reduce((sum, m) => sum + m.non2xx, 0),
    errors: slices.reduce((sum, m) => sum + m.errors, 0),
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The measurement whose throughput is the median of the rounds. */
function medianRun(runs: Measurement[]): Measurement {
  const m = median(runs.map((r) => r.rps));
  return runs.reduce((best, r) => (Math.abs(r.rps - m) < Math.abs(best.rps - m) ? r : best));
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

async function profile(scenario: Scenario, auth: string, updateUrl: (base: string) => void): Promise<string> {
  const dir = join(BENCH_DIR, 'profiles', scenario.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const spawned = performance.now();
  const server = await startRoster(`roster (profiled)`, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  updateUrl(server.url);
  await measure(server.url, auth, scenario.requests(), 1); // warm-up, left out with start-up
  const skipMs = performance.now() - spawned;
  await measure(server.url, auth, scenario.requests(), DURATION);
  await stopServer(server);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return '(no profile written)';
  return summarizeProfile(join(dir, file), 12, skipMs);
}

async function main(): Promise<void> {
  if (flag('only-routing')) {
    writeRoutingSection(routingSection());
    return;
  }
  if (!existsSync(MAIN)) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does)');
  mkdirSync(BENCH_DIR, { recursive: true });
  const info = ensureStore();
  const auth = credentials();

  // Start-up on the seeded store: three cold starts, the median counts; the last one serves.
  const startups: number[] = [];
  let roster: Server | undefined;
  for (let i = 0; i < 3; i++) {
    if (roster) await stopServer(roster);
    roster = await startRoster('roster');
    startups.push(roster.startupMs);
  }
  const normal = roster!;
  const full = await startRoster('roster (FULL)', { ROSTER_SQLITE_SYNCHRONOUS: 'FULL' });
  const idleRss = rssMiB(normal.child.pid!);

  const get = async (path: string) => {
    const res = await fetch(normal.url + path, { headers: { authorization: auth } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return captureResponse(res);
  };
  const big = `/v1/Workspaces/${info.bigWorkspace}`;
  const small = `/v1/Workspaces/${info.smallWorkspace}`;
  const statsBig = `${big}/Workers/RealTimeStatistics`;
  const statsBigVoice = `${statsBig}?TaskChannel=voice`;
  const statsSmall = `${small}/Workers/RealTimeStatistics`;
  const bigStats = JSON.parse((await get(statsBig)).text) as { total_workers: number };
  if (bigStats.total_workers !== info.workers) {
    throw new Error(
      `The cached store has ${bigStats.total_workers} workers, not ${info.workers}: delete .bench/`,
    );
  }
  const activities = (
    JSON.parse((await get(`${big}/Activities`)).text) as { activities: { sid: string }[] }
  ).activities.map((a) => a.sid);
  // Workers spread over the whole table (the API pages from the start: deep Page offsets are
  // refused, so the sample is read from the store file, read-only).
  const sample = sampleWorkers(info.bigWorkspace, 1000);

  /** Worker activity updates that always change the activity, round the sample. */
  const updates = (): autocannon.Request[] => {
    let i = 0;
    return [
      {
        method: 'POST',
        setupRequest: (req) => {
          const n = i++;
          const worker = n % sample.length;
          const activity = activities[(Math.floor(n / sample.length) + worker) % activities.length]!;
          return {
            ...req,
            path: `${big}/Workers/${sample[worker]}`,
            headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: `ActivitySid=${activity}`,
          };
        },
      },
    ];
  };
  const scenarios: Scenario[] = [
    {
      name: 'stats-10',
      label: `Statistics read, ${SMALL_WORKERS} workers`,
      roster: 'normal',
      requests: () => [{ method: 'GET', path: statsSmall }],
    },
    {
      name: 'stats-1m',
      label: `Statistics read, ${info.workers.toLocaleString('en')} workers`,
      roster: 'normal',
      requests: () => [{ method: 'GET', path: statsBig }],
    },
    {
      name: 'stats-1m-voice',
      label: `Statistics read, ${info.workers.toLocaleString('en')} workers, TaskChannel=voice`,
      roster: 'normal',
      requests: () => [{ method: 'GET', path: statsBigVoice }],
    },
    {
      name: 'update',
      label: 'Worker activity update (durable: WAL, synchronous=NORMAL)',
      roster: 'normal',
      requests: updates,
    },
    {
      name: 'update-full',
      label: 'Worker activity update (synchronous=FULL)',
      roster: 'full',
      requests: updates,
    },
    {
      name: 'mix',
      label: '90% statistics reads / 10% activity updates',
      roster: 'normal',
      requests: () => [
        ...Array.from({ length: 9 }, () => ({ method: 'GET' as const, path: statsBig })),
        ...updates(),
      ],
    },
  ];

  // The ceiling answers every one of those with the bytes Roster gives.
  const captured: Record<string, CapturedResponse> = {};
  for (const path of [statsSmall, statsBig, statsBigVoice]) captured[`GET ${path}`] = await get(path);
  const one = await fetch(`${normal.url}${big}/Workers/${sample[0]}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: `ActivitySid=${activities[1]}`,
  });
  captured.POST = await captureResponse(one);
  const responsesFile = join(BENCH_DIR, 'ceiling-responses.json');
  writeFileSync(responsesFile, JSON.stringify(captured));
  const ceiling = await startServer(
    'ceiling',
    ['--import', 'tsx', join(ROOT, 'bench', 'ceiling.ts'), responsesFile],
    {},
    /Ceiling listening at (\S+)/,
  );

  let peakRss = idleRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(normal.child.pid!))), 100);
  const results = new Map<string, { roster: Measurement[]; ceiling: Measurement[] }>();
  try {
    log(`Warming up (${CONNECTIONS} connections)...`);
    for (const s of scenarios) {
      await measure((s.roster === 'full' ? full : normal).url, auth, s.requests(), 1);
      await measure(ceiling.url, auth, s.requests(), 1);
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of scenarios) {
        const entry = results.get(s.name) ?? { roster: [], ceiling: [] };
        results.set(s.name, entry);
        const target = s.roster === 'full' ? full : normal;
        // The machine's speed drifts by tens of percent within seconds (a shared VM): each side
        // runs in SLICES short slices, alternating, and which goes first alternates too, so that
        // drift hits both alike.
        const slices: Record<'roster' | 'ceiling', Measurement[]> = { roster: [], ceiling: [] };
        for (let k = 0; k < SLICES; k++) {
          const order =
            (round + k) % 2 === 0 ? (['roster', 'ceiling'] as const) : (['ceiling', 'roster'] as const);
          for (const who of order) {
            const url = who === 'roster' ? target.url : ceiling.url;
            slices[who].push(await measure(url, auth, s.requests(), DURATION / SLICES));
          }
        }
        for (const who of ['roster', 'ceiling'] as const) {
          const m = combine(slices[who]);
          entry[who].push(m);
          log(
            `round ${round + 1}/${ROUNDS} ${s.name.padEnd(15)} ${who.padEnd(8)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms${m.non2xx || m.errors ? `  non-2xx ${m.non2xx} errors ${m.errors}` : ''}`,
          );
        }
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const rssUnderLoad = peakRss;
  await stopServer(ceiling);
  await stopServer(full);

  let profiles = '';
  if (flag('profile')) {
    for (const name of ['stats-1m', 'update']) {
      const s = scenarios.find((x) => x.name === name)!;
      log(`Profiling ${name}...`);
      profiles += `\n#### ${s.label}\n\n\`\`\`\n${await profile(s, auth, () => undefined)}\n\`\`\`\n`;
    }
  }
  await stopServer(normal);
  const postgres = flag('no-postgres') ? '' : postgresSection();
  const streams = flag('no-streams') ? '' : await streamSection();
  const scale = flag('no-scale') ? '' : await scaleSection(info, auth);
  const scalePostgres = flag('no-scale') || flag('no-postgres') ? '' : await scalePostgresSection();
  const queues = flag('no-queues')
    ? null
    : await runQueuesBench({
        workers: 100_000,
        queues: 1_000,
        duration: DURATION,
        rounds: Math.min(ROUNDS, 3),
      });
  const routing = flag('no-routing') ? null : routingSection();

  // ---- report
  const rows = scenarios.map((s) => {
    const r = results.get(s.name)!;
    const mine = medianRun(r.roster);
    const ceil = medianRun(r.ceiling);
    const failed = r.roster.some((m) => m.non2xx > 0 || m.errors > 0);
    // Each round's Roster and ceiling ran back to back: their ratio is what drift spares.
    const ratios = r.roster.map((m, i) => m.rps / r.ceiling[i]!.rps);
    return { s, mine, ceil, ratio: median(ratios), ratios, failed };
  });
  const target: Record<string, number> = { 'stats-1m': 0.8, update: 0.3 };
  const table = [
    '| Measurement | Roster req/s | p50 / p90 / p99 ms | Ceiling req/s | p50 / p90 / p99 ms | Ratio | Ratio per round | Target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      ({ s, mine, ceil, ratio, ratios, failed }) =>
        `| ${s.label}${failed ? ' (errors!)' : ''} | ${mine.rps.toFixed(0)} | ${mine.p50} / ${mine.p90} / ${mine.p99} | ${ceil.rps.toFixed(0)} | ${ceil.p50} / ${ceil.p90} / ${ceil.p99} | **${ratio.toFixed(2)}×** | ${ratios.map((x) => x.toFixed(2)).join(', ')} | ${target[s.name] ? `≥ ${target[s.name]}× ${ratio >= target[s.name]! ? 'met' : 'MISSED'}` : ''} |`,
    ),
  ].join('\n');

  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' (with uncommitted changes)' : '';
  const cpu = os.cpus();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  const section = `<!-- bench:results:start -->
Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}; Node ${process.version}; commit ${commit}${dirty}. Load average at the end: ${load}.
autocannon ${CONNECTIONS} connections, pipelining 1; ${ROUNDS} rounds, in each of which Roster and the ceiling get ${DURATION} s per measurement in ${SLICES} alternating slices of ${(DURATION / SLICES).toFixed(1)} s (which goes first alternates too). Req/s and latencies: the median round of each (a round's latencies: the median of its slices). Ratio: the median of the rounds' ratios. Rate limits off.

${table}

| Store and process | Value |
| --- | --- |
| Workers in the big workspace | ${info.workers.toLocaleString('en')} (store ${(fileSize(join(DATA_DIR, 'roster.db')) / 2 ** 30).toFixed(2)} GiB) |
| \`roster seed --workers ${info.workers}\` (when the cache was built, ${info.seededAt.slice(0, 10)}) | ${info.seedSeconds.toFixed(1)} s wall, ${info.seedCpuSeconds.toFixed(1)} s CPU |
| Start-up to listening, median of 3 | ${median(startups).toFixed(0)} ms (${startups.map((s) => s.toFixed(0)).join(', ')}) |
| RSS idle after start-up | ${idleRss.toFixed(0)} MiB |
| Peak RSS under load (sampled every 100 ms) | ${rssUnderLoad.toFixed(0)} MiB |
${postgres}${streams}${scale}${scalePostgres}${profiles ? `\n### Profiles of this run (self time by function, top entries; start-up and a 1 s warm-up left out)\n${profiles}` : ''}<!-- bench:results:end -->`;

  process.stdout.write(`\n${section}\n`);
  if (!flag('no-write')) {
    const file = join(ROOT, 'BENCHMARKS.md');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
    const re = /<!-- bench:results:start -->[\s\S]*<!-- bench:results:end -->/;
    writeFileSync(
      file,
      re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`,
    );
    log('Wrote BENCHMARKS.md');
  }
  if (queues) {
    process.stdout.write(`\n${queues}\n`);
    if (!flag('no-write')) writeQueuesSection(queues);
  }
  if (routing !== null) writeRoutingSection(routing);
  if (!flag('no-rt-statistics')) {
    writeMarkedSection('rt-statistics', 'Real-time statistics (issue 14)', realtimeStatisticsSection());
  }
  if (!flag('no-subscribers')) {
    const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
    const section = subscribersSection(await runSubscribersBench(), commit);
    writeMarkedSection('subscribers', 'Real-time statistics subscribers while routing (issue 14)', section);
  }
  if (!flag('no-cumulative')) {
    writeMarkedSection('cumulative', 'Cumulative statistics (issue 14)', cumulativeStatisticsSection());
  }
}

/**
 * Routing with 10,000 workers and 100 queues, agents accepting at once (bench/routing.ts, one
 * process per node), on SQLite and on PostgreSQL with 1 and 2 nodes.
 */
function routingSection(): string {
  log('Routing: 10,000 workers, 100 queues...');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'routing.ts'), ...(flag('no-postgres') ? ['--no-postgres'] : [])],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ROSTER_BENCH_DATABASE_URL:
          process.env.ROSTER_BENCH_DATABASE_URL ??
          process.env.ROSTER_TEST_DATABASE_URL ??
          'postgres://postgres@127.0.0.1:5432/test',
      },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 900_000,
    },
  );
  const line = run.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (run.status !== 0 || !line) return `Routing: not measured (the run failed, exit ${run.status}).`;
  const r = JSON.parse(line.slice('RESULT '.length)) as {
    workers: number;
    queues: number;
    seconds: number;
    concurrency: number;
    runs: RoutingRun[];
  };
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  return `Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}; load average at the end: ${load} (the machine is shared: compare the ratios, not the absolute rates).
${r.workers.toLocaleString('en')} workers, all available, in ${r.queues} queues (one per team); a workflow with a filter per team; ${r.concurrency} task creators per node; agents accept each reservation as soon as its commit is heard, then complete it (all through the API, by \`inject\`, in one process per node). Each run first measures durable worker updates (activity changes through the API, ${r.concurrency} in flight per node, ${r.seconds} s), then routing for ${r.seconds} s, on the same workspace.

201 → reservation: from a task's 201 to the commit of its reservation being heard on the node, 0 when the reservation committed with the task (before the 201; the count says how often). Create: the request itself, sent → 201 (the reservation exists when it answers in that case).

| Store | Nodes | Worker updates/s | Tasks routed/s | Ratio (target ≥ 0.3×) | 201 → reservation p50 / p99 ms | Reserved before the 201 | Create p50 / p99 ms | Lifecycles/s | Tasks created | Errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${r.runs
  .map(
    (x) =>
      `| ${x.store} | ${x.nodes} | ${x.updatesPerSecond} | ${x.routedPerSecond} | **${x.ratio.toFixed(2)}×** ${x.ratio >= 0.3 ? 'met' : 'MISSED'} | ${x.latencyP50Ms.toFixed(1)} / ${x.latencyP99Ms.toFixed(1)} | ${x.reservedBefore201} | ${x.createP50Ms.toFixed(1)} / ${x.createP99Ms.toFixed(1)} | ${x.lifecyclesPerSecond} | ${x.created} | ${x.errors}${x.firstError ? ` (${x.firstError.slice(0, 80).replace(/[|\n]/g, ' ')})` : ''} |`,
  )
  .join('\n')}
`;
}

function writeRoutingSection(text: string): void {
  writeMarkedSection('routing', 'Routing', text);
}

/** Writes `text` between the `bench:<name>` markers of BENCHMARKS.md (a new `## heading` section the first time). */
function writeMarkedSection(name: string, heading: string, text: string): void {
  process.stdout.write(`\n${text}\n`);
  if (flag('no-write')) return;
  const file = join(ROOT, 'BENCHMARKS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const section = `<!-- bench:${name}:start -->\n${text}<!-- bench:${name}:end -->`;
  const re = new RegExp(`<!-- bench:${name}:start -->[\\s\\S]*<!-- bench:${name}:end -->`);
  writeFileSync(
    file,
    re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n## ${heading}\n\n${section}\n`,
  );
  log(`Wrote the ${heading} section of BENCHMARKS.md`);
}

/** Issue 14: each real-time statistics read at 100,000 workers and 100,000 live tasks against the ceiling. */
function realtimeStatisticsSection(): string {
  log('Real-time statistics: 100,000 workers, 100,000 live tasks...');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'statistics-realtime.ts')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_800_000,
    },
  );
  if (run.status !== 0 || !run.stdout) return `Not measured (the run failed, exit ${run.status}).\n`;
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  return `Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit} (target ≥ 0.5× each). ${run.stdout}`;
}

/** Issue 14: cumulative statistics reads at 100,000 events over 30 days (bench/statistics-cumulative.ts). */
function cumulativeStatisticsSection(): string {
  log('Cumulative statistics: 100,000 events over 30 days...');
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'statistics-cumulative.ts'), '--events', '100000'],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_800_000 },
  );
  const line = (run.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (run.status !== 0 || line === undefined) return `Not measured (the run failed, exit ${run.status}).\n`;
  return cumulativeRow(JSON.parse(line.slice('RESULT '.length)) as CumulativeResult);
}

type Percentiles = { p50: number; p99: number };
interface CumulativeResult {
  events: number;
  days: number;
  seedSeconds: number;
  rollSeconds: number;
  rollupRows: number;
  workspace15m: Percentiles;
  workspace30d: Percentiles;
  queue15m: Percentiles;
  queue30d: Percentiles;
  workspace30dOneChannel: Percentiles;
  workers15m: Percentiles;
  workers30d: Percentiles;
  worker30d: Percentiles;
}

/** The `npm run bench` run's row: the reads' p50 / p99 in ms. */
function cumulativeRow(r: CumulativeResult): string {
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const p = (x: Percentiles) => `${x.p50} / ${x.p99}`;
  return `Last \`npm run bench\` run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}, ${os.cpus().length} cores, Node ${process.version}; reads p50 / p99 in ms.

| Events | Over | Seed | Catch-up roll (rows) | Workspace 15 min | Workspace 30 days | Queue 15 min | Queue 30 days | Workspace 30 days, one channel | Workers 15 min | Workers 30 days | A worker 30 days |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ${r.events.toLocaleString('en')} | ${r.days} d | ${r.seedSeconds} s | ${r.rollSeconds} s (${r.rollupRows.toLocaleString('en')}) | ${p(r.workspace15m)} | ${p(r.workspace30d)} | ${p(r.queue15m)} | ${p(r.queue30d)} | ${p(r.workspace30dOneChannel)} | ${p(r.workers15m)} | ${p(r.workers30d)} | ${p(r.worker30d)} |
`;
}

/** Issue 15: administrative writes on the big workspace while another's statistics are read (bench/scale.ts). */
async function scaleSection(info: StoreInfo, auth: string): Promise<string> {
  log(
    `Administrative writes on the ${info.workers.toLocaleString('en')}-worker workspace (a copy of the store)...`,
  );
  const results = await runScaleBench({
    root: ROOT,
    sourceDir: DATA_DIR,
    workDir: join(BENCH_DIR, 'scale'),
    bigWorkspace: info.bigWorkspace,
    smallWorkspace: info.smallWorkspace,
    auth,
    log,
  });
  return `
Administrative writes on the ${info.workers.toLocaleString('en')}-worker workspace (SQLite, on a copy of the store), while one client reads the ${SMALL_WORKERS}-worker workspace's statistics back to back, from the operation's start until its background reclamation is over (target: p99 < 50 ms, max < 250 ms).

${scaleTable(results)}
`;
}

function scaleTable(results: Awaited<ReturnType<typeof runScaleBench>>): string {
  const ms = (x: number) => x.toFixed(1);
  return `| Operation | Response | Reclaimed in the background | Reads | Read p50 / p99 / max ms |
| --- | ---: | ---: | ---: | ---: |
${results.map((r) => `| ${r.name} | ${r.status} in ${r.responseMs.toFixed(0)} ms | ${r.reclaimSeconds ? `${r.reclaimSeconds.toFixed(1)} s` : '—'} | ${r.reads} | ${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)} |`).join('\n')}`;
}

/** The same on PostgreSQL, on a schema of its own seeded with SCALE_PG_WORKERS workers (then dropped). */
async function scalePostgresSection(): Promise<string> {
  const url =
    process.env.ROSTER_BENCH_DATABASE_URL ??
    process.env.ROSTER_TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/test';
  log(`Administrative writes on PostgreSQL (${SCALE_PG_WORKERS.toLocaleString('en')} workers)...`);
  try {
    const results = await runScaleBench({
      root: ROOT,
      postgres: { url, workers: SCALE_PG_WORKERS },
      workDir: join(BENCH_DIR, 'scale-postgres'),
      log,
    });
    return `
The same on PostgreSQL (same machine; a schema of its own seeded with \`roster seed --workers ${SCALE_PG_WORKERS}\` in ${results.seedSeconds?.toFixed(1)} s, then dropped):

${scaleTable(results)}
`;
  } catch (err) {
    return `\nAdministrative writes on PostgreSQL: not measured (${(err as Error).message.split('\n')[0]}).\n`;
  }
}

/** Live statistics: 1,000 subscribers on one node, and the time from a write to their events (bench/stream.ts). */
async function streamSection(): Promise<string> {
  log('Statistics streams: 1,000 subscribers...');
  const r = await runStreamBench(1000, 200);
  const ms = (x: { p50: number; p99: number }) => `${x.p50.toFixed(1)} / ${x.p99.toFixed(1)}`;
  return `
Statistics streams (Server-Sent Events, SQLite, one node): ${r.subscribers} concurrent subscribers to one workspace, ${r.writes} writes made one at a time; every subscriber gets every event. Connecting them took ${r.connectSeconds.toFixed(1)} s; server RSS ${r.serverRssMb.toFixed(0)} MiB.

| Latency to the event at each subscriber | p50 / p99 ms |
| --- | ---: |
| from the write's acknowledgement | ${ms(r.ackToEventMs)} |
| from sending the write | ${ms(r.sendToEventMs)} |
`;
}

/**
 * PostgreSQL with 1 and with 2 nodes (bench/postgres-updates.ts: separate processes on one
 * database, full worker updates), when a database is at hand.
 */
function postgresSection(): string {
  const url =
    process.env.ROSTER_BENCH_DATABASE_URL ??
    process.env.ROSTER_TEST_DATABASE_URL ??
    'postgres://postgres@127.0.0.1:5432/test';
  log('PostgreSQL: worker updates with 1 and 2 nodes...');
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'postgres-updates.ts')], {
    cwd: ROOT,
    env: { ...process.env, ROSTER_BENCH_DATABASE_URL: url },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const line = run.stdout?.split('\n').find((l) => l.startsWith('RESULT '));
  if (run.status !== 0 || !line) {
    return `\nPostgreSQL: not measured (${url.replace(/:[^:@/]*@/, ':***@')} not reachable, or the run failed).\n`;
  }
  const r = JSON.parse(line.slice('RESULT '.length)) as {
    workerCount: number;
    concurrency: number;
    seconds: number;
    runs: { nodes: number; counters: string; updatesPerSecond: number; errors: number }[];
    recount: { workers: number; counted: number };
  };
  return `
PostgreSQL (same machine), worker activity updates through the service layer, ${r.concurrency} in flight per node, ${r.seconds} s each; every update moves a worker between the same two activities (the hot-row case). Recount afterwards: ${r.recount.workers} workers, ${r.recount.counted} counted.

| Nodes | Counters | Updates/s | Errors |
| ---: | --- | ---: | ---: |
${r.runs.map((x) => `| ${x.nodes} | ${x.counters} | ${x.updatesPerSecond} | ${x.errors} |`).join('\n')}
`;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
