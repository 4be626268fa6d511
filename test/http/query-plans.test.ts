import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { requireTestDatabaseUrl, schemaForDir, testBackend } from '../helpers/postgres.js';

/**
 * Every list query, as the store runs it for every filter combination a client can send, must
 * walk an index: no full scan of a table, and no sort of all a workspace's workers. A query's
 * plan does not depend on how many rows match, so a small workspace shows what a big one gets.
 */

let t: TestApp;
let ws: string;
let worker: string;
let activities: { sid: string; friendly_name: string }[];
let queue: string;

interface Ran {
  sql: string;
  params: unknown[];
}
let ran: Ran[] = [];
let restore: () => void;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Plans' } })).json()
    .sid;
  activities = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` })).json().activities;
  for (let i = 0; i < 6; i++) {
    const res = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/Workers`,
      form: { FriendlyName: `w${i}`, ActivitySid: activities[i % activities.length]!.sid },
    });
    worker = res.json().sid;
  }
  // Enough workers that PostgreSQL's statistics (taken below) make it plan as it would at scale.
  const now = new Date('2026-01-01T00:00:00Z');
  await t.store.transaction((tx) =>
    tx.insertWorkers(
      ws,
      Array.from({ length: 5_000 }, (_, i) => ({
        sid: newSid(SidPrefix.worker),
        accountSid: t.account.sid,
        workspaceSid: ws,
        friendlyName: `bulk${i}`,
        activitySid: activities[i % 2]!.sid,
        attributes: '{}',
        now,
      })),
      () => ({ capacity: 1, available: true }),
    ),
  );
  // After the bulk load (which leaves membership alone), so that its pass counts every worker.
  queue = (
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws}/TaskQueues`,
      form: { FriendlyName: 'Everyone', TargetWorkers: '1==1' },
    })
  ).json().sid;
  await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/TaskQueues`,
    form: { FriendlyName: 'Nobody', TargetWorkers: '1==2' },
  });
  if (testBackend() === 'postgres') await analyze();
  restore = captureSelects();
});
afterAll(async () => {
  restore();
  await t.close();
});

async function analyze(): Promise<void> {
  const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`SET search_path = ${schemaForDir(t.dir)}`);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/** Records the SELECTs the store runs (their SQL and parameters), whichever backend. */
function captureSelects(): () => void {
  const keep = (sql: string, params: unknown[]) => {
    if (/^\s*select/i.test(sql)) ran.push({ sql, params });
  };
  if (testBackend() === 'postgres') {
    const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
    const query = proto.query;
    proto.query = function (this: pg.Client, ...args: unknown[]) {
      const [text, values] = args;
      if (typeof text === 'string') keep(text, Array.isArray(values) ? values : []);
      return query.apply(this, args);
    };
    return () => (proto.query = query);
  }
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { all: (...a: unknown[]) => unknown };
  probe.close();
  const all = proto.all;
  proto.all = function (this: { source: string }, ...params: unknown[]) {
    keep(this.source, params);
    return all.apply(this, params);
  };
  return () => (proto.all = all);
}

/** A worker list that filters: then walking all the workspace's workers would be a scan in disguise. */
const filtersWorkers = (sql: string) =>
  /from "workers"/.test(sql) &&
  /"(?:k"\.")?(name_key|activity_sid)" = |"a"\."(name_key|available)" = /.test(sql);

/**
 * The plan's problems: full scans, sorting every matching worker, and walking a workspace's
 * workers to find the few a filter matches.
 */
async function problems(q: Ran): Promise<string[]> {
  // Walking the workspace's workers, or all workers by id, to find the few that match. On
  // PostgreSQL walking by id is right where half the workers match (a page fills at once); it
  // must not where none do (Unavailable holds two of 5,006 here).
  const sparse = testBackend() === 'sqlite' || q.params.includes(activities[2]!.sid);
  // A queue's members are walked along the membership key and joined to their workers by id:
  // the walk is bounded by the queue, as the brief of the list asks (its members, in order).
  const walksMembers = /from "task_queue_members" as "m" inner join "workers"/.test(q.sql);
  const walksWorkspace = (line: string) =>
    filtersWorkers(q.sql) &&
    !walksMembers &&
    (/workers_by_workspace/.test(line) ||
      (sparse && !/"k"\."id" = /.test(q.sql) && /(workers_pkey|INTEGER PRIMARY KEY)/.test(line)));
  if (testBackend() === 'postgres') {
    const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
    await client.connect();
    try {
      await client.query(`SET search_path = ${schemaForDir(t.dir)}`);
      // With sequential scans priced out, a plan still shows one only where no index can serve.
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query(`EXPLAIN ${q.sql}`, q.params);
      const plan = rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
      return plan.filter((line) => /Seq Scan/.test(line) || walksWorkspace(line));
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(t.dir, 'roster.db'), { readonly: true });
  try {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as { detail: string }[];
    return plan
      .map((p) => p.detail)
      .filter(
        (d) =>
          /^SCAN /.test(d) ||
          (/TEMP B-TREE/.test(d) && /workers|task_queues/.test(q.sql)) ||
          walksWorkspace(d),
      );
  } finally {
    db.close();
  }
}

function combinations(params: Record<string, string>): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const [k, v] of Object.entries(params)) out = out.flatMap((c) => [c, { ...c, [k]: v }]);
  return out;
}

async function listQueries(path: string, filters: Record<string, string>): Promise<Ran[]> {
  const seen: Ran[] = [];
  for (const filter of combinations(filters)) {
    const query = (extra: Record<string, string>) => new URLSearchParams({ ...filter, ...extra }).toString();
    ran = [];
    const first = await t.request({ url: `${path}?${query({ PageSize: '2' })}` });
    expect(first.statusCode, first.body).toBe(200);
    const meta = first.json().meta;
    const more: string[] = [`${path}?${query({ PageSize: '2', Page: '3' })}`];
    if (meta.next_page_url)
      more.push(new URL(meta.next_page_url).pathname + new URL(meta.next_page_url).search);
    for (const url of more) {
      const res = await t.request({ url });
      expect(res.statusCode, res.body).toBe(200);
      const prev = res.json().meta.previous_page_url;
      if (prev)
        expect((await t.request({ url: new URL(prev).pathname + new URL(prev).search })).statusCode).toBe(
          200,
        );
    }
    seen.push(...ran);
  }
  return seen;
}

describe('list query plans', () => {
  it('walk an index for every filter combination of every list', async () => {
    const w = `/v1/Workspaces/${ws}`;
    const queries = [
      ...(await listQueries('/v1/Workspaces', { FriendlyName: 'Plans' })),
      ...(await listQueries(`${w}/Activities`, { FriendlyName: 'Available', Available: 'true' })),
      ...(await listQueries(`${w}/TaskChannels`, {})),
      ...(await listQueries(`${w}/Workers/${worker}/Channels`, {})),
      ...(await listQueries(`${w}/Workers`, {
        FriendlyName: 'w3',
        ActivitySid: activities[0]!.sid,
        ActivityName: 'Available',
        Available: 'true',
      })),
      ...(await listQueries(`${w}/Workers`, { ActivityName: 'NoSuchActivity' })),
      ...(await listQueries(`${w}/Workers`, { ActivityName: 'Unavailable' })),
      ...(await listQueries(`${w}/Workers`, { Available: 'false' })),
      ...(await listQueries(`${w}/Workers`, {
        TaskQueueSid: queue,
        ActivitySid: activities[0]!.sid,
        Available: 'true',
        Ordering: 'DateStatusChanged:desc',
      })),
      ...(await listQueries(`${w}/Workers`, {
        TaskQueueName: 'everyone',
        ActivityName: 'Offline',
        Ordering: 'DateStatusChanged:asc',
      })),
      ...(await listQueries(`${w}/Workers`, { TaskQueueName: 'Nobody', Available: 'false' })),
      ...(await listQueries(`${w}/TaskQueues`, {
        FriendlyName: 'Everyone',
        WorkerSid: worker,
        Ordering: 'DateUpdated:desc',
      })),
      ...(await listQueries(`${w}/TaskQueues`, { Ordering: 'DateCreated:desc' })),
      ...(await listQueries(`${w}/TaskQueues`, { Ordering: 'DateUpdated:asc' })),
    ];
    const lists = queries.filter((q) => /\b(limit|offset)\b/i.test(q.sql));
    expect(lists.length).toBeGreaterThan(50);
    const found: string[] = [];
    for (const q of queries) for (const p of await problems(q)) found.push(`${p}\n  in ${q.sql}`);
    expect(found).toEqual([]);
  });

  it('pages a filter over several activities in creation order, forward, backward and by Page', async () => {
    const path = (u: string) => new URL(u).pathname + new URL(u).search;
    const pages: string[][] = [];
    let next: string | null = `/v1/Workspaces/${ws}/Workers?Available=false&PageSize=700`;
    let last: { meta: Record<string, string | null> } | undefined;
    while (next) {
      const body: { workers: { friendly_name: string }[]; meta: Record<string, string | null> } = (
        await t.request({ url: next })
      ).json();
      pages.push(body.workers.map((k: { friendly_name: string }) => k.friendly_name));
      next = body.meta.next_page_url ? path(body.meta.next_page_url) : null;
      last = body;
    }
    const names = pages.flat();
    // Offline and Unavailable: every other bulk worker and four of the six made over HTTP.
    expect(names).toHaveLength(2_504);
    expect(names.slice(0, 4)).toEqual(['w0', 'w2', 'w3', 'w5']);
    expect(names.slice(4, 7)).toEqual(['bulk0', 'bulk2', 'bulk4']);
    expect(names.at(-1)).toBe('bulk4998');
    expect(pages.map((p) => p.length)).toEqual([700, 700, 700, 404]);

    const backward: string[][] = [];
    let prev = last!.meta.previous_page_url ?? null;
    while (prev) {
      const body = (await t.request({ url: path(prev) })).json();
      backward.unshift(body.workers.map((k: { friendly_name: string }) => k.friendly_name));
      prev = body.meta.previous_page_url;
    }
    expect(backward).toEqual(pages.slice(0, -1));

    const third = (
      await t.request({ url: `/v1/Workspaces/${ws}/Workers?Available=false&PageSize=700&Page=2` })
    ).json();
    expect(third.workers.map((k: { friendly_name: string }) => k.friendly_name)).toEqual(pages[2]);
  });

  it('refuses a Page that would skip more than 10,000 rows without a PageToken', async () => {
    const res = await t.request({ url: `/v1/Workspaces/${ws}/Workers?PageSize=1000&Page=499` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 20001, status: 400 });
    expect(res.json().message).toMatch(/PageToken/);
    const ok = await t.request({ url: `/v1/Workspaces/${ws}/Workers?PageSize=1000&Page=10` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().workers).toEqual([]);
  });
});
