import fc from 'fast-check';
import { SidPrefix } from '../../src/domain/sid.js';
import type { TestAccount } from '../helpers/app.js';
import type { SpecHook } from '../helpers/spec-hook.js';
import type { Recounter } from '../scale/recount.js';
import {
  Long,
  PATHS,
  sequence,
  toWellFormed,
  type PoolKind,
  type BadCredentials,
  type Recipe,
  type Ref,
  type Segment,
  type Value,
} from './arbitraries.js';

/**
 * The API fuzzer: random sequences of valid, boundary and hostile requests over every route
 * (fast-check, seeded). After every request: never a 5xx; every error is exactly Twilio's body,
 * with the response's status; another account never reaches a workspace; 2xx bodies match the
 * spec (the app's spec hook); a write sent alone and refused changes nothing the client can read
 * of the sequence's workspace. After every sequence: the statistics of each of its workspaces,
 * overall and per task channel, equal a recount of the workers and their channels through the
 * API (and, on SQLite, straight from the database file).
 *
 * Replay a failure with the seed it prints: ROSTER_FUZZ_SEED=… (and ROSTER_FUZZ_PATH=… for the
 * exact case). ROSTER_FUZZ_RUNS sets how many sequences, ROSTER_FUZZ_SHRINK=1 shrinks a failure
 * (slowly: each attempt replays a sequence), ROSTER_FUZZ_STATS=1 prints how often each route and
 * method got each status, to judge what the generators reach.
 */
export const fuzzSettings = {
  seed: process.env.ROSTER_FUZZ_SEED ? Number(process.env.ROSTER_FUZZ_SEED) : Date.now() % 2 ** 31,
  runs: Number(process.env.ROSTER_FUZZ_RUNS || 40),
  path: process.env.ROSTER_FUZZ_PATH || undefined,
  shrink: process.env.ROSTER_FUZZ_SHRINK === '1',
  printStats: process.env.ROSTER_FUZZ_STATS === '1',
};

/** A request as sent: the URL exactly as it goes on the wire. */
export interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** What the fuzzer runs against: an injected app or a listening server. */
export interface FuzzTarget {
  /** null: this client cannot send such a request (Node's HTTP client refuses some headers). */
  send(sent: Sent): Promise<Answer | null>;
  account: TestAccount;
  /** Another account, and a workspace of its own that `account` must never reach. */
  other: TestAccount;
  foreignWorkspace: string;
  spec: SpecHook;
  /** On SQLite, a recount straight from the database file. */
  recounter: Recounter | null;
  /** Requests with a longer body, or a longer head (URL and headers), are not sent. */
  largestBody?: number;
  largestHead?: number;
}

/** How often each route and method got each status. */
const answers = new Map<string, number>();

/** Runs the fuzzer against `target`; throws (with the seed to replay) on the first failure. */
export async function fuzzApi(target: FuzzTarget): Promise<void> {
  const { seed, runs, path, shrink } = fuzzSettings;
  const property = fc.asyncProperty(sequence, async (steps) => {
    const pool = await freshPool(target);
    for (const step of steps) {
      if (step.length === 1) await sendAlone(target, pool, step[0]!);
      else await Promise.all(step.map((r) => send(target, pool, r)));
    }
    await expectStatisticsEqualRecount(target, pool);
  });
  try {
    await fc.assert(property, {
      seed,
      numRuns: runs,
      endOnFailure: !shrink,
      ...(path === undefined ? {} : { path }),
    });
  } finally {
    if (fuzzSettings.printStats)
      console.log(
        [...answers]
          .sort()
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      );
  }
}

/** The SIDs and names a sequence has seen, for its requests to refer to. */
type Pool = Record<PoolKind, string[]> & { foreignWorkspace: string };

const PREFIX: Record<PoolKind, string> = {
  workspace: SidPrefix.workspace,
  activity: SidPrefix.activity,
  taskChannel: SidPrefix.taskChannel,
  taskChannelName: '',
  worker: SidPrefix.worker,
  workerChannel: SidPrefix.workerChannel,
  task: SidPrefix.task,
  reservation: SidPrefix.reservation,
};

function resolve(pool: Pool, r: Ref): string {
  // Now and then a workspace reference names the other account's workspace.
  if (r.ref === 'workspace' && r.n % 9 === 8) return pool.foreignWorkspace;
  const items = pool[r.ref];
  if (items.length === 0) return r.ref === 'taskChannelName' ? 'voice' : PREFIX[r.ref] + '0'.repeat(32);
  return items[r.n % items.length]!;
}

const isRef = (v: unknown): v is Ref =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  'ref' in v &&
  'n' in v &&
  Object.keys(v).length === 2;

/** A value as text (form bodies and query strings). */
function text(pool: Pool, v: Value): string {
  if (typeof v === 'string') return v;
  if (v instanceof Long) return v.text();
  if (isRef(v)) return resolve(pool, v);
  return JSON.stringify(v);
}

/** A value in a JSON body: references resolved, anything else as it is. */
function jsonOf(pool: Pool, v: Value): unknown {
  if (v instanceof Long) return v.text();
  if (isRef(v)) return resolve(pool, v);
  return v;
}

/** Percent-encodes as a client's form encoder would (lone surrogates as U+FFFD). */
const encode = (s: string) => encodeURIComponent(toWellFormed(s));

function segmentText(pool: Pool, s: Segment): string {
  if (!('text' in s)) return encode(resolve(pool, s));
  return typeof s.text === 'string' ? s.text : s.text.text();
}

function pathOf(pool: Pool, r: Recipe): { url: string; workspace: string | null } {
  const seg = r.segments.map((s) => segmentText(pool, s));
  const ws = PATHS[r.route].length > 0 ? `/v1/Workspaces/${seg[0]}` : '/v1/Workspaces';
  const workspace = r.segments[0] && !('text' in r.segments[0]) ? resolve(pool, r.segments[0]) : null;
  const tail: Record<Recipe['route'], string> = {
    workspaces: '',
    workspace: '',
    activities: '/Activities',
    activity: `/Activities/${seg[1]}`,
    taskChannels: '/TaskChannels',
    taskChannel: `/TaskChannels/${seg[1]}`,
    workers: '/Workers',
    worker: `/Workers/${seg[1]}`,
    statistics: '/Workers/RealTimeStatistics',
    workerChannels: `/Workers/${seg[1]}/Channels`,
    workerChannel: `/Workers/${seg[1]}/Channels/${seg[2]}`,
    tasks: '/Tasks',
    task: `/Tasks/${seg[1]}`,
    taskReservations: `/Tasks/${seg[1]}/Reservations`,
    taskReservation: `/Tasks/${seg[1]}/Reservations/${seg[2]}`,
    workerReservations: `/Workers/${seg[1]}/Reservations`,
    workerReservation: `/Workers/${seg[1]}/Reservations/${seg[2]}`,
  };
  return { url: ws + tail[r.route], workspace };
}

function formOf(pool: Pool, params: [string, Value][], raw: boolean[]): string {
  return params
    .map(([name, v], i) => `${encode(name)}=${raw[i] ? text(pool, v) : encode(text(pool, v))}`)
    .join('&');
}

function build(target: FuzzTarget, pool: Pool, r: Recipe): { sent: Sent; workspace: string | null } {
  const { url: path, workspace } = pathOf(pool, r);
  const url =
    r.pathVariant === 'trailingSlash'
      ? `${path}/`
      : r.pathVariant === 'doubleSlash'
        ? path.replace('/Workspaces', '//Workspaces')
        : r.pathVariant === 'lowerCase'
          ? path.toLowerCase()
          : path;
  const headers: Record<string, string> = { authorization: (r.asOther ? target.other : target.account).auth };
  if (r.badCredentials !== undefined) {
    const { sid, token } = target.account;
    const basic = (text: string) => 'Basic ' + Buffer.from(text).toString('base64');
    const bad: Record<BadCredentials, string | null> = {
      none: null,
      wrongToken: basic(`${sid}:${token}x`),
      unknownAccount: basic(`${target.other.sid.slice(0, 33)}0:${token}`),
      notBase64: 'Basic %%%',
      bearer: `Bearer ${token}`,
      empty: '',
    };
    const value = bad[r.badCredentials];
    if (value === null) delete headers.authorization;
    else headers.authorization = value;
  }
  if (r.ifMatch !== undefined) headers['if-match'] = toWellFormed(text(pool, r.ifMatch));
  const sent: Sent = { method: r.method, url, headers };
  const b = r.body;
  const query: string[] = [];
  if (b.kind === 'form') {
    const form = formOf(pool, r.params, b.raw);
    if (r.method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      sent.payload = form;
    } else if (form !== '') query.push(form);
  } else if (b.kind === 'json') {
    headers['content-type'] = 'application/json';
    sent.payload = JSON.stringify(Object.fromEntries(r.params.map(([n, v]) => [n, jsonOf(pool, v)])));
  } else if (b.kind === 'text') {
    if (b.contentType !== null) headers['content-type'] = b.contentType;
    sent.payload = typeof b.text === 'string' ? b.text : b.text.text();
  }
  if (r.querySuffix !== undefined) query.push(r.querySuffix);
  if (query.length > 0) sent.url += `?${query.join('&')}`;
  return { sent, workspace };
}

const short = (s: string | undefined, n = 300) =>
  s === undefined ? '' : s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s;

function fail(why: string, sent: Sent, res: Answer): never {
  throw new Error(
    `${why}\n  request: ${sent.method} ${short(sent.url)}\n  headers: ${short(JSON.stringify(sent.headers))}` +
      `\n  body: ${short(sent.payload)}\n  response: ${res.statusCode} ${short(res.body, 1000)}`,
  );
}

const ERROR_KEYS = 'code,message,more_info,status';

/** What must hold of every response. */
function checkResponse(target: FuzzTarget, sent: Sent, res: Answer, crossesAccounts: boolean): void {
  const status = res.statusCode;
  if (status >= 500) fail(`a ${status}`, sent, res);
  if (crossesAccounts && status < 300 && sent.method !== 'OPTIONS')
    fail("a request without this account's credentials succeeded", sent, res);
  const violations = target.spec.take();
  if (violations.length > 0) fail(`the response breaks the spec: ${violations.join('; ')}`, sent, res);
  if (status < 400 || sent.method === 'HEAD') return;
  if (!String(res.headers['content-type']).startsWith('application/json'))
    fail('an error that is not JSON', sent, res);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    return fail('an error body that does not parse', sent, res);
  }
  if (body === null || typeof body !== 'object' || Object.keys(body).sort().join(',') !== ERROR_KEYS)
    fail('an error body that is not exactly {code, message, more_info, status}', sent, res);
  if (body.status !== status) fail('an error body whose status is not the response status', sent, res);
  if (!Number.isInteger(body.code) || typeof body.message !== 'string' || body.message === '')
    fail('an error body without an integer code and a message', sent, res);
  if (body.more_info !== `https://www.twilio.com/docs/errors/${String(body.code)}`)
    fail('an error body whose more_info does not name its code', sent, res);
}

/** Remembers the SIDs and names a successful response shows, for later requests to use. */
function learn(pool: Pool, r: Recipe, res: Answer, workspace: string | null): void {
  if (res.statusCode >= 300 || r.method === 'HEAD' || r.method === 'OPTIONS' || r.method === 'DELETE') return;
  if (r.asOther || r.badCredentials !== undefined || workspace === pool.foreignWorkspace) return;
  const add = (kind: PoolKind, v: unknown) => {
    if (typeof v === 'string' && !pool[kind].includes(v)) pool[kind].push(v);
  };
  const body = JSON.parse(res.body) as Record<string, unknown>;
  const items = (key: string) => (Array.isArray(body[key]) ? (body[key] as Record<string, unknown>[]) : []);
  switch (r.route) {
    case 'workspaces':
      if (r.method === 'POST') {
        add('workspace', body.sid);
        add('activity', body.default_activity_sid);
      }
      break;
    case 'activities':
      add('activity', body.sid);
      for (const a of items('activities')) add('activity', a.sid);
      break;
    case 'taskChannels':
      add('taskChannel', body.sid);
      add('taskChannelName', body.unique_name);
      for (const c of items('channels')) {
        add('taskChannel', c.sid);
        add('taskChannelName', c.unique_name);
      }
      break;
    case 'workers':
      add('worker', body.sid);
      for (const w of items('workers')) add('worker', w.sid);
      break;
    case 'workerChannels':
      for (const c of items('channels')) add('workerChannel', c.sid);
      break;
    case 'tasks':
      add('task', body.sid);
      for (const t of items('tasks')) add('task', t.sid);
      break;
    case 'taskReservations':
    case 'workerReservations':
      for (const x of items('reservations')) add('reservation', x.sid);
      break;
    default:
      break;
  }
}

async function send(target: FuzzTarget, pool: Pool, r: Recipe): Promise<Sending | null> {
  const { sent, workspace } = build(target, pool, r);
  if ((sent.payload?.length ?? 0) > (target.largestBody ?? Infinity)) return null;
  const head = sent.url.length + Object.values(sent.headers).reduce((n, v) => n + v.length, 0);
  if (head > (target.largestHead ?? Infinity)) return null;
  const res = await target.send(sent);
  if (res === null) return null;
  const seen = `${r.route} ${r.method} ${res.statusCode}`;
  answers.set(seen, (answers.get(seen) ?? 0) + 1);
  const foreign = workspace === pool.foreignWorkspace;
  // Nothing succeeds without credentials, and nothing reaches another account's workspace.
  const crossesAccounts =
    r.badCredentials !== undefined || (r.asOther ? workspace !== null && !foreign : foreign);
  checkResponse(target, sent, res, crossesAccounts);
  learn(pool, r, res, workspace);
  return { sent, res };
}

interface Sending {
  sent: Sent;
  res: Answer;
}

/** Sends a write alone, and checks that if it was refused it changed nothing it could have. */
async function sendAlone(target: FuzzTarget, pool: Pool, r: Recipe): Promise<void> {
  if (r.method !== 'POST' && r.method !== 'DELETE') {
    await send(target, pool, r);
    return;
  }
  const ws = pool.workspace[0]!; // the sequence's own, where most requests go
  const before = await snapshot(target, ws);
  const done = await send(target, pool, r);
  if (done && done.res.statusCode >= 400 && (await snapshot(target, ws)) !== before)
    fail(`a refused request changed workspace ${ws}`, done.sent, done.res);
}

/** Everything a client can read of a workspace in a few requests (its workers' channels aside). */
async function snapshot(target: FuzzTarget, ws: string): Promise<string> {
  const base = `/v1/Workspaces/${ws}`;
  const urls = [
    base,
    `${base}/Activities?PageSize=1000`,
    `${base}/TaskChannels?PageSize=1000`,
    `${base}/Workers?PageSize=1000`,
    `${base}/Workers/RealTimeStatistics`,
  ];
  const answers = await Promise.all(
    urls.map((url) => target.send({ method: 'GET', url, headers: { authorization: target.account.auth } })),
  );
  return JSON.stringify(answers.map((a) => [a?.statusCode, a?.body]));
}

/** A request of the account's own, outside the fuzzed sequence: it must succeed. */
async function call<T>(target: FuzzTarget, url: string, form?: Record<string, string>): Promise<T> {
  const sent: Sent = { method: 'GET', url, headers: { authorization: target.account.auth } };
  if (form) {
    sent.method = 'POST';
    sent.headers['content-type'] = 'application/x-www-form-urlencoded';
    sent.payload = new URLSearchParams(form).toString();
  }
  const res = await target.send(sent);
  if (res === null || res.statusCode >= 300)
    throw new Error(`${sent.method} ${url}: ${res?.statusCode} ${res?.body}`);
  return JSON.parse(res.body) as T;
}

async function all<T>(target: FuzzTarget, url: string, key: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | null = `${url}?PageSize=1000`;
  while (next) {
    const page: Record<string, unknown> & { meta: { next_page_url: string | null } } = await call(
      target,
      next,
    );
    out.push(...(page[key] as T[]));
    next =
      page.meta.next_page_url &&
      new URL(page.meta.next_page_url).pathname + new URL(page.meta.next_page_url).search;
  }
  return out;
}

interface ActivityStat {
  sid: string;
  friendly_name: string;
  workers: number;
}

/** The statistics of every workspace the sequence made, against a recount of its workers. */
async function expectStatisticsEqualRecount(target: FuzzTarget, pool: Pool): Promise<void> {
  for (const ws of pool.workspace) {
    const live = await target.send({
      method: 'GET',
      url: `/v1/Workspaces/${ws}`,
      headers: { authorization: target.account.auth },
    });
    if (live?.statusCode === 404) continue; // deleted
    const base = `/v1/Workspaces/${ws}`;
    const activities = await all<{ sid: string; friendly_name: string }>(
      target,
      `${base}/Activities`,
      'activities',
    );
    const channels = await all<{ sid: string; unique_name: string }>(
      target,
      `${base}/TaskChannels`,
      'channels',
    );
    const workers = await all<{ sid: string; activity_sid: string }>(target, `${base}/Workers`, 'workers');
    const eligible = new Map<string, Set<string>>(channels.map((c) => [c.sid, new Set()]));
    for (const w of workers) {
      const own = await all<{ task_channel_sid: string; available: boolean; configured_capacity: number }>(
        target,
        `${base}/Workers/${w.sid}/Channels`,
        'channels',
      );
      for (const c of own)
        if (c.available && c.configured_capacity > 0) eligible.get(c.task_channel_sid)?.add(w.sid);
    }
    const expected = (only?: Set<string>): ActivityStat[] =>
      activities.map((a) => ({
        sid: a.sid,
        friendly_name: a.friendly_name,
        workers: workers.filter((w) => w.activity_sid === a.sid && (!only || only.has(w.sid))).length,
      }));
    const compare = async (query: string, want: ActivityStat[], fromFile?: ActivityStat[]) => {
      const stats = await call<{ activity_statistics: ActivityStat[]; total_workers: number }>(
        target,
        `${base}/Workers/RealTimeStatistics${query}`,
      );
      const total = want.reduce((n, a) => n + a.workers, 0);
      const got = JSON.stringify([stats.activity_statistics, stats.total_workers]);
      for (const [what, counts] of [
        ['the API', want],
        ['the database file', fromFile ?? want],
      ] as const) {
        if (got !== JSON.stringify([counts, total]))
          throw new Error(
            `statistics ${base}/Workers/RealTimeStatistics${query} are ${got}, a recount through ${what} says ` +
              `${JSON.stringify([counts, total])}`,
          );
      }
    };
    const file = (tc?: string) =>
      target.recounter
        ?.counts(ws, tc)
        .map((c) => ({ sid: c.activitySid, friendly_name: c.friendlyName, workers: c.workers }));
    await compare('', expected(), file());
    for (const c of channels) {
      await compare(`?TaskChannel=${c.sid}`, expected(eligible.get(c.sid)), file(c.sid));
      await compare(`?TaskChannel=${encodeURIComponent(c.unique_name)}`, expected(eligible.get(c.sid)));
    }
  }
}

/** Each sequence starts from a workspace of its own with two workers. */
async function freshPool(target: FuzzTarget): Promise<Pool> {
  const pool: Pool = {
    workspace: [],
    activity: [],
    taskChannel: [],
    taskChannelName: [],
    worker: [],
    workerChannel: [],
    task: [],
    reservation: [],
    foreignWorkspace: target.foreignWorkspace,
  };
  const ws = (await call<{ sid: string }>(target, '/v1/Workspaces', { FriendlyName: 'Fuzz' })).sid;
  pool.workspace.push(ws);
  for (const a of await all<{ sid: string }>(target, `/v1/Workspaces/${ws}/Activities`, 'activities'))
    pool.activity.push(a.sid);
  const channels = await all<{ sid: string; unique_name: string }>(
    target,
    `/v1/Workspaces/${ws}/TaskChannels`,
    'channels',
  );
  for (const c of channels) {
    pool.taskChannel.push(c.sid);
    pool.taskChannelName.push(c.unique_name);
  }
  for (const name of ['Ann', 'Bo']) {
    const sid = (await call<{ sid: string }>(target, `/v1/Workspaces/${ws}/Workers`, { FriendlyName: name }))
      .sid;
    pool.worker.push(sid);
    for (const c of await all<{ sid: string }>(
      target,
      `/v1/Workspaces/${ws}/Workers/${sid}/Channels`,
      'channels',
    ))
      pool.workerChannel.push(c.sid);
  }
  return pool;
}
