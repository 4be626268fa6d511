import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ConflictError, UnavailableError } from '../../domain/errors.js';
import type {
  Account,
  Activity,
  ActivityCount,
  TaskChannel,
  Worker,
  WorkerChannel,
  Workspace,
} from '../../domain/types.js';
import { decodePageStart, toPage } from '../paging.js';
import {
  nameKey,
  toActivity,
  toTaskChannel,
  toWorker,
  toWorkerChannel,
  toWorkspace,
  type Row,
  WORKER_CHANNEL_SELECT,
  WORKER_SELECT,
  WORKSPACE_SELECT,
} from '../rows.js';
import type {
  ActivityFilter,
  NewActivity,
  NewTaskChannel,
  NewWorker,
  NewWorkspace,
  Page,
  PageQuery,
  Store,
  StoreTx,
  TaskChannelPatch,
  WorkerChannelPatch,
  WorkerChannelSettings,
  WorkerFilter,
  WorkerPatch,
  WorkerScope,
  WorkspaceFilter,
  WorkspacePatch,
} from '../store.js';

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database */
  connectionString: string;
  /** Tables live in this schema (created if missing); default: the role's search_path. */
  schema?: string;
  /** Connections in this node's pool (default 10). */
  poolSize?: number;
  /** Longest a statement may run before PostgreSQL cancels it (default 10 s; 0 = no limit). */
  statementTimeoutMs?: number;
  /** Longest to wait for a connection, new or from the pool (default 5 s). */
  connectTimeoutMs?: number;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** First key of the advisory lock that migrations hold; the second is the schema's hash. */
const MIGRATION_LOCK = 0x526f7374; // 'Rost'
const MAX_ATTEMPTS = 8;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

type Param = string | number | boolean | Date | null | readonly unknown[];
type Run = (sql: string, params: readonly Param[]) => Promise<pg.QueryResult<Row>>;

/**
 * PostgreSQL text cannot hold U+0000, which clients may send. Strings go in with it written
 * as U+0001 U+0002 (and U+0001 itself as U+0001 U+0001), and come back decoded: a one-to-one
 * mapping, so equality still works, and other strings are stored unchanged.
 */
const NUL = '\u0000';
const SOH = '\u0001';
const toText = (s: string): string =>
  s.includes(NUL) || s.includes(SOH)
    ? s
        .split(SOH)
        .join(SOH + SOH)
        .split(NUL)
        .join(SOH + '\u0002')
    : s;
function fromText(s: string): string {
  if (!s.includes(SOH)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === SOH && i + 1 < s.length) out += s[++i] === SOH ? SOH : NUL;
    else out += s[i];
  }
  return out;
}
const encodeParam = (p: Param): Param =>
  typeof p === 'string'
    ? toText(p)
    : Array.isArray(p)
      ? p.map((v) => (typeof v === 'string' ? toText(v) : v))
      : p;
function decodeRow(r: Row): Row {
  for (const k in r) if (typeof r[k] === 'string') r[k] = fromText(r[k]);
  return r;
}

const sqlstate = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** Connection loss, refusal, timeouts, server shutdown: the request may work again later. */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  const state = sqlstate(err);
  if (state !== undefined) {
    return (
      state.startsWith('08') || // connection exception
      state.startsWith('57P') || // admin/crash shutdown, cannot connect now
      state === '57014' || // statement timeout
      state === '53300' // too many connections
    );
  }
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, …
  return /Connection terminated|connection error|timeout exceeded when trying to connect|not queryable|Client was closed/i.test(
    err.message,
  );
}

/** Driver errors become domain errors here, and nowhere else. */
function translate(err: unknown, conflict: string): unknown {
  const state = sqlstate(err);
  if (state === '23505') return new ConflictError(conflict);
  if (state === '23503') return new ConflictError('The resource is still in use');
  if (isUnavailable(err)) {
    return new UnavailableError(`The database cannot be reached: ${(err as Error).message}`);
  }
  return err;
}

/** 32 random hex digits after WC, as newSid makes them. */
const NEW_WC_SID = `'WC' || replace(gen_random_uuid()::text, '-', '')`;

/**
 * The queries, run either on the pool (each read its own statement, committed data) or on
 * one client inside a transaction (READ COMMITTED; the rows a transaction is about to change
 * are locked first, so a concurrent change is waited for and then seen).
 */
class PgQueries implements StoreTx {
  private effects: Array<() => void> = [];

  constructor(
    private readonly exec: Run,
    private readonly inTransaction: boolean,
  ) {}

  private async rows(sql: string, params: readonly Param[], conflict = ''): Promise<Row[]> {
    try {
      return (await this.exec(sql, params.map(encodeParam))).rows.map(decodeRow);
    } catch (err) {
      throw translate(err, conflict);
    }
  }

  private async one(sql: string, params: readonly Param[]): Promise<Row | undefined> {
    return (await this.rows(sql, params))[0];
  }

  private async run(sql: string, params: readonly Param[], conflict = ''): Promise<void> {
    await this.rows(sql, params, conflict);
  }

  /** Pages a query whose rows carry `id`, ordered by id. */
  private async page<T>(
    select: string,
    alias: string,
    where: string,
    params: Param[],
    query: PageQuery,
    map: (r: Row) => T,
  ): Promise<Page<T>> {
    const start = decodePageStart(query);
    const n = params.length;
    let sql: string;
    let all: Param[];
    if (start.kind === 'offset') {
      sql = `${select} WHERE ${where} ORDER BY ${alias}.id LIMIT $${n + 1} OFFSET $${n + 2}`;
      all = [...params, query.pageSize + 1, start.offset];
    } else {
      const [op, dir] = start.kind === 'after' ? ['>', 'ASC'] : ['<', 'DESC'];
      sql = `${select} WHERE ${where} AND ${alias}.id ${op} $${n + 1} ORDER BY ${alias}.id ${dir} LIMIT $${n + 2}`;
      all = [...params, start.key, query.pageSize + 1];
    }
    const rows = await this.rows(sql, all);
    const page = toPage(rows, start, query.pageSize, (r) => Number(r.id));
    return { ...page, items: page.items.map(map) };
  }

  // ---- reads

  async getAccount(sid: string): Promise<Account | null> {
    const r = await this.one('SELECT sid, auth_token FROM accounts WHERE sid = $1', [sid]);
    return r ? { sid: r.sid as string, authToken: r.auth_token as string } : null;
  }

  async getWorkspace(accountSid: string, sid: string): Promise<Workspace | null> {
    const r = await this.one(`${WORKSPACE_SELECT} WHERE w.sid = $1 AND w.account_sid = $2`, [
      sid,
      accountSid,
    ]);
    return r ? toWorkspace(r) : null;
  }

  async hasWorkspace(accountSid: string, sid: string): Promise<boolean> {
    const r = await this.one('SELECT 1 FROM workspaces WHERE sid = $1 AND account_sid = $2', [
      sid,
      accountSid,
    ]);
    return r !== undefined;
  }

  listWorkspaces(accountSid: string, filter: WorkspaceFilter, query: PageQuery) {
    let where = 'w.account_sid = $1';
    const params: Param[] = [accountSid];
    if (filter.friendlyName !== undefined) {
      params.push(filter.friendlyName);
      where += ` AND w.friendly_name = $${params.length}`;
    }
    return this.page(WORKSPACE_SELECT, 'w', where, params, query, toWorkspace);
  }

  async getActivity(workspaceSid: string, sid: string): Promise<Activity | null> {
    const r = await this.one('SELECT * FROM activities WHERE sid = $1 AND workspace_sid = $2', [
      sid,
      workspaceSid,
    ]);
    return r ? toActivity(r) : null;
  }

  listActivities(workspaceSid: string, filter: ActivityFilter, query: PageQuery) {
    let where = 'a.workspace_sid = $1';
    const params: Param[] = [workspaceSid];
    if (filter.friendlyName !== undefined) {
      params.push(nameKey(filter.friendlyName));
      where += ` AND a.name_key = $${params.length}`;
    }
    if (filter.available !== undefined) {
      params.push(filter.available);
      where += ` AND a.available = $${params.length}`;
    }
    return this.page('SELECT a.* FROM activities a', 'a', where, params, query, toActivity);
  }

  async getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null> {
    const r = await this.one(
      `SELECT * FROM task_channels WHERE workspace_sid = $1 AND (sid = $2 OR unique_name = $2)
        ORDER BY sid = $2 DESC LIMIT 1`,
      [workspaceSid, sidOrUniqueName],
    );
    return r ? toTaskChannel(r) : null;
  }

  listTaskChannels(workspaceSid: string, query: PageQuery) {
    return this.page(
      'SELECT t.* FROM task_channels t',
      't',
      't.workspace_sid = $1',
      [workspaceSid],
      query,
      toTaskChannel,
    );
  }

  async getWorker(workspaceSid: string, sid: string): Promise<Worker | null> {
    if (this.inTransaction) {
      // In a transaction the worker is read to be changed: lock it first, so an If-Match
      // check and the write that follows see the same version even when another node writes
      // it too. (Locked on its own: FOR UPDATE on the join would re-check a concurrently
      // moved worker against its old activity row and lose it.)
      const locked = await this.one(
        'SELECT 1 FROM workers WHERE sid = $1 AND workspace_sid = $2 FOR UPDATE',
        [sid, workspaceSid],
      );
      if (!locked) return null;
    }
    const r = await this.one(`${WORKER_SELECT} WHERE k.sid = $1 AND k.workspace_sid = $2`, [
      sid,
      workspaceSid,
    ]);
    return r ? toWorker(r) : null;
  }

  listWorkers(workspaceSid: string, filter: WorkerFilter, query: PageQuery) {
    let where = 'k.workspace_sid = $1';
    const params: Param[] = [workspaceSid];
    const add = (condition: string, value: Param) => {
      params.push(value);
      where += ` AND ${condition} = $${params.length}`;
    };
    if (filter.activitySid !== undefined) add('k.activity_sid', filter.activitySid);
    if (filter.activityName !== undefined) add('a.name_key', nameKey(filter.activityName));
    if (filter.available !== undefined) add('a.available', filter.available);
    if (filter.friendlyName !== undefined) add('k.name_key', nameKey(filter.friendlyName));
    return this.page(WORKER_SELECT, 'k', where, params, query, toWorker);
  }

  async getWorkerChannel(workerSid: string, sidOrUniqueName: string): Promise<WorkerChannel | null> {
    const r = await this.one(
      `${WORKER_CHANNEL_SELECT} WHERE c.worker_sid = $1 AND (c.sid = $2 OR t.unique_name = $2)
        ORDER BY c.sid = $2 DESC LIMIT 1`,
      [workerSid, sidOrUniqueName],
    );
    return r ? toWorkerChannel(r) : null;
  }

  listWorkerChannels(workerSid: string, query: PageQuery) {
    return this.page(WORKER_CHANNEL_SELECT, 'c', 'c.worker_sid = $1', [workerSid], query, toWorkerChannel);
  }

  async activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]> {
    const rows =
      taskChannelSid === undefined
        ? await this.rows(
            `SELECT a.sid, a.friendly_name,
                    COALESCE((SELECT sum(c.workers) FROM activity_counts c WHERE c.activity_sid = a.sid), 0)::int AS workers
               FROM activities a WHERE a.workspace_sid = $1 ORDER BY a.id`,
            [workspaceSid],
          )
        : await this.rows(
            `SELECT a.sid, a.friendly_name,
                    COALESCE((SELECT sum(c.workers) FROM channel_activity_counts c
                               WHERE c.task_channel_sid = $2 AND c.activity_sid = a.sid), 0)::int AS workers
               FROM activities a WHERE a.workspace_sid = $1 ORDER BY a.id`,
            [workspaceSid, taskChannelSid],
          );
    return rows.map((r) => ({
      activitySid: r.sid as string,
      friendlyName: r.friendly_name as string,
      workers: r.workers as number,
    }));
  }

  // ---- writes

  async upsertAccount(account: Account, now: Date): Promise<void> {
    await this.run(
      `INSERT INTO accounts (sid, auth_token, date_created, date_updated) VALUES ($1, $2, $3, $3)
       ON CONFLICT (sid) DO UPDATE SET auth_token = EXCLUDED.auth_token, date_updated = EXCLUDED.date_updated
       WHERE accounts.auth_token <> EXCLUDED.auth_token`,
      [account.sid, account.authToken, now],
    );
  }

  async insertWorkspace(w: NewWorkspace): Promise<void> {
    await this.run(
      `INSERT INTO workspaces (sid, account_sid, friendly_name, event_callback_url, events_filter, multi_task_enabled,
         prioritize_queue_order, default_activity_sid, timeout_activity_sid, date_created, date_updated)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
      [
        w.sid,
        w.accountSid,
        w.friendlyName,
        w.eventCallbackUrl,
        w.eventsFilter,
        w.multiTaskEnabled,
        w.prioritizeQueueOrder,
        w.defaultActivitySid,
        w.timeoutActivitySid,
        w.now,
      ],
    );
  }

  async updateWorkspace(sid: string, p: WorkspacePatch, now: Date): Promise<void> {
    await this.run(
      `UPDATE workspaces SET
         friendly_name = COALESCE($1, friendly_name),
         event_callback_url = CASE WHEN $2::boolean THEN $3 ELSE event_callback_url END,
         events_filter = CASE WHEN $4::boolean THEN $5 ELSE events_filter END,
         multi_task_enabled = COALESCE($6, multi_task_enabled),
         prioritize_queue_order = COALESCE($7, prioritize_queue_order),
         default_activity_sid = COALESCE($8, default_activity_sid),
         timeout_activity_sid = COALESCE($9, timeout_activity_sid),
         date_updated = $10
       WHERE sid = $11`,
      [
        p.friendlyName ?? null,
        p.eventCallbackUrl !== undefined,
        p.eventCallbackUrl ?? null,
        p.eventsFilter !== undefined,
        p.eventsFilter ?? null,
        p.multiTaskEnabled ?? null,
        p.prioritizeQueueOrder ?? null,
        p.defaultActivitySid ?? null,
        p.timeoutActivitySid ?? null,
        now,
        sid,
      ],
    );
  }

  async deleteWorkspace(sid: string): Promise<void> {
    // Workers first (their trigger takes their channels and counts along), then what they referenced.
    await this.run('DELETE FROM workers WHERE workspace_sid = $1', [sid]);
    await this.run('DELETE FROM worker_channels WHERE workspace_sid = $1', [sid]);
    await this.run(
      'DELETE FROM channel_activity_counts WHERE task_channel_sid IN (SELECT sid FROM task_channels WHERE workspace_sid = $1)',
      [sid],
    );
    await this.run(
      'DELETE FROM activity_counts WHERE activity_sid IN (SELECT sid FROM activities WHERE workspace_sid = $1)',
      [sid],
    );
    await this.run('DELETE FROM task_channels WHERE workspace_sid = $1', [sid]);
    await this.run('DELETE FROM activities WHERE workspace_sid = $1', [sid]);
    await this.run('DELETE FROM workspaces WHERE sid = $1', [sid]);
  }

  async insertActivity(a: NewActivity): Promise<void> {
    await this.run(
      `INSERT INTO activities (sid, account_sid, workspace_sid, friendly_name, name_key, available, date_created, date_updated)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [a.sid, a.accountSid, a.workspaceSid, a.friendlyName, nameKey(a.friendlyName), a.available, a.now],
      `An activity named ${a.friendlyName} already exists in this workspace`,
    );
  }

  async updateActivity(sid: string, friendlyName: string, now: Date): Promise<void> {
    await this.run(
      'UPDATE activities SET friendly_name = $1, name_key = $2, date_updated = $3 WHERE sid = $4',
      [friendlyName, nameKey(friendlyName), now, sid],
      `An activity named ${friendlyName} already exists in this workspace`,
    );
  }

  async deleteActivity(sid: string): Promise<void> {
    await this.run('DELETE FROM channel_activity_counts WHERE activity_sid = $1', [sid]);
    await this.run('DELETE FROM activity_counts WHERE activity_sid = $1', [sid]);
    // A worker moved in by a concurrent write makes the foreign key refuse (ConflictError).
    await this.run('DELETE FROM activities WHERE sid = $1', [sid]);
  }

  async insertTaskChannel(c: NewTaskChannel, wc: WorkerChannelSettings): Promise<void> {
    // Waits for workers being inserted right now (they take this lock shared), so that every
    // worker, committed before or after, ends up with a channel for this task channel.
    await this.run('SELECT pg_advisory_xact_lock(hashtext($1))', [c.workspaceSid]);
    await this.run(
      `INSERT INTO task_channels (sid, account_sid, workspace_sid, unique_name, friendly_name, channel_optimized_routing,
         date_created, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [c.sid, c.accountSid, c.workspaceSid, c.uniqueName, c.friendlyName, c.channelOptimizedRouting, c.now],
      `A task channel with unique name ${c.uniqueName} already exists in this workspace`,
    );
    await this.run(
      `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
         date_created, date_updated)
       SELECT ${NEW_WC_SID}, account_sid, workspace_sid, sid, $1, $2, $3, $4, $4
         FROM workers WHERE workspace_sid = $5 ORDER BY id`,
      [c.sid, wc.capacity, wc.available, c.now, c.workspaceSid],
    );
  }

  async updateTaskChannel(sid: string, p: TaskChannelPatch, now: Date): Promise<void> {
    await this.run(
      `UPDATE task_channels SET friendly_name = COALESCE($1, friendly_name),
         channel_optimized_routing = COALESCE($2, channel_optimized_routing), date_updated = $3 WHERE sid = $4`,
      [p.friendlyName ?? null, p.channelOptimizedRouting ?? null, now, sid],
    );
  }

  async deleteTaskChannel(sid: string): Promise<void> {
    await this.run('DELETE FROM worker_channels WHERE task_channel_sid = $1', [sid]);
    await this.run('DELETE FROM channel_activity_counts WHERE task_channel_sid = $1', [sid]);
    await this.run('DELETE FROM task_channels WHERE sid = $1', [sid]);
  }

  async insertWorker(k: NewWorker, wc: WorkerChannelSettings): Promise<void> {
    await this.run('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [k.workspaceSid]);
    await this.run(
      `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes, version,
         date_created, date_updated, date_status_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8, $8)`,
      [
        k.sid,
        k.accountSid,
        k.workspaceSid,
        k.friendlyName,
        nameKey(k.friendlyName),
        k.activitySid,
        k.attributes,
        k.now,
      ],
      `A worker named ${k.friendlyName} already exists in this workspace`,
    );
    await this.run(
      `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
         date_created, date_updated)
       SELECT ${NEW_WC_SID}, account_sid, workspace_sid, $1, sid, $2, $3, $4, $4
         FROM task_channels WHERE workspace_sid = $5 ORDER BY id`,
      [k.sid, wc.capacity, wc.available, k.now, k.workspaceSid],
    );
  }

  async insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void> {
    if (workers.length === 0) return;
    await this.run('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [workspaceSid]);
    const taskChannels = (
      await this.rows('SELECT * FROM task_channels WHERE workspace_sid = $1 ORDER BY id', [workspaceSid])
    ).map(toTaskChannel);
    for (const k of workers) {
      if (k.workspaceSid !== workspaceSid) throw new Error(`Worker ${k.sid} is not in ${workspaceSid}`);
    }
    // One statement per table, the rows passed as arrays; the count triggers fire per row.
    const conflict = 'A worker with one of these names already exists';
    await this.run(
      `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes, version,
         date_created, date_updated, date_status_changed)
       SELECT sid, account_sid, $1, friendly_name, name_key, activity_sid, attributes, 0, at, at, at
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
           WITH ORDINALITY AS n(sid, account_sid, friendly_name, name_key, activity_sid, attributes, at, i)
        ORDER BY i`,
      [
        workspaceSid,
        workers.map((k) => k.sid),
        workers.map((k) => k.accountSid),
        workers.map((k) => k.friendlyName),
        workers.map((k) => nameKey(k.friendlyName)),
        workers.map((k) => k.activitySid),
        workers.map((k) => k.attributes),
        workers.map((k) => k.now),
      ],
      conflict,
    );
    if (taskChannels.length === 0) return;
    const cols = {
      account: [] as string[],
      worker: [] as string[],
      channel: [] as string[],
      capacity: [] as number[],
      available: [] as boolean[],
      at: [] as Date[],
    };
    for (const k of workers) {
      for (const c of taskChannels) {
        const s = channelFor(k, c);
        cols.account.push(k.accountSid);
        cols.worker.push(k.sid);
        cols.channel.push(c.sid);
        cols.capacity.push(s.capacity);
        cols.available.push(s.available);
        cols.at.push(k.now);
      }
    }
    await this.run(
      `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
         date_created, date_updated)
       SELECT ${NEW_WC_SID}, account_sid, $1, worker_sid, task_channel_sid, capacity, available, at, at
         FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::boolean[], $7::timestamptz[])
           WITH ORDINALITY AS n(account_sid, worker_sid, task_channel_sid, capacity, available, at, i)
        ORDER BY i`,
      [workspaceSid, cols.account, cols.worker, cols.channel, cols.capacity, cols.available, cols.at],
    );
  }

  async updateWorker(sid: string, p: WorkerPatch, now: Date, scope?: WorkerScope): Promise<Worker | null> {
    // Every SET expression reads the row as it was, so date_status_changed compares the old activity.
    const [r] = await this.rows(
      `WITH k AS (UPDATE workers SET
         friendly_name = COALESCE($1, friendly_name),
         name_key = COALESCE($2, name_key),
         attributes = COALESCE($3, attributes),
         date_status_changed = CASE WHEN $4::text IS NOT NULL AND $4::text <> activity_sid
                                    THEN $5 ELSE date_status_changed END,
         activity_sid = COALESCE($4::text, activity_sid),
         version = version + 1,
         date_updated = $5
       WHERE sid = $6${
         scope
           ? ` AND workspace_sid = $7
               AND EXISTS (SELECT 1 FROM workspaces WHERE sid = $7 AND account_sid = $8)
               AND ($4::text IS NULL
                    OR EXISTS (SELECT 1 FROM activities WHERE sid = $4::text AND workspace_sid = $7))`
           : ''
       } RETURNING *)
       SELECT k.id, k.sid, k.account_sid, k.workspace_sid, k.friendly_name, k.activity_sid, k.attributes,
              k.version, k.date_created, k.date_updated, k.date_status_changed,
              a.friendly_name AS activity_name, a.available AS available
         FROM k JOIN activities a ON a.sid = k.activity_sid`,
      [
        p.friendlyName ?? null,
        p.friendlyName === undefined ? null : nameKey(p.friendlyName),
        p.attributes ?? null,
        p.activitySid ?? null,
        now,
        sid,
        ...(scope ? [scope.workspaceSid, scope.accountSid] : []),
      ],
      `A worker named ${p.friendlyName} already exists in this workspace`,
    );
    return r ? toWorker(r) : null;
  }

  async deleteWorker(sid: string): Promise<void> {
    await this.run('DELETE FROM workers WHERE sid = $1', [sid]);
  }

  async updateWorkerChannel(sid: string, p: WorkerChannelPatch, now: Date): Promise<void> {
    await this.run(
      `UPDATE worker_channels SET capacity = COALESCE($1, capacity), available = COALESCE($2, available),
         date_updated = $3 WHERE sid = $4`,
      [p.capacity ?? null, p.available ?? null, now, sid],
    );
  }

  onCommit(effect: () => void): void {
    this.effects.push(effect);
  }

  takeEffects(): Array<() => void> {
    const e = this.effects;
    this.effects = [];
    return e;
  }
}

function poolConfig(options: PostgresStoreOptions): pg.PoolConfig {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`PostgreSQL schema name must match ${SCHEMA_NAME.source}, got "${schema}"`);
  }
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  return {
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'roster',
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  };
}

/**
 * Applies the numbered migrations this database has not seen, holding an advisory lock so
 * that nodes starting together take turns: the first applies them, the others find them done.
 */
async function migrate(pool: pg.Pool, schema: string | undefined): Promise<string> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const target =
      schema ?? (((await client.query('SELECT current_schema() AS s')).rows[0] as Row).s as string | null);
    if (target === null)
      throw new Error('No schema on the search_path exists; create one or fix DATABASE_URL');
    // Waiting for another node's migrations, or running a long one, is not a slow statement.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK, String(target)]);
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      const applied = new Set(
        (await client.query('SELECT version FROM schema_migrations')).rows.map(
          (r: Row) => r.version as string,
        ),
      );
      for (const file of files) {
        if (applied.has(file)) continue;
        const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
        await client.query('BEGIN');
        try {
          await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [
            file,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK, String(target)]);
      await client.query('RESET statement_timeout');
    }
    return target;
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * The PostgreSQL store: one pool per node, many nodes per database. Nothing is cached, so
 * every read sees what any node committed before it. Opening is synchronous; the migrations
 * run on first use (serve's first write is at start) and are tried again after a failure.
 */
export class PostgresStore extends PgQueries implements Store {
  readonly dialect = 'postgres' as const;
  readonly schema: string | undefined;
  private readonly pool: pg.Pool;
  private readonly config: pg.PoolConfig;
  private migrated: Promise<void> | undefined;
  /** The schema the tables are in, known once migrated. */
  private tablesSchema: string | undefined;
  private closed = false;

  static open(options: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(options, poolConfig(options));
  }

  private constructor(options: PostgresStoreOptions, config: pg.PoolConfig) {
    const pool = new pg.Pool(config);
    const gate = { ready: () => Promise.resolve() };
    super(async (sql, params) => {
      await gate.ready();
      return pool.query<Row>(sql, params as unknown[]);
    }, false);
    gate.ready = () => this.ready();
    // An idle connection that breaks is dropped by the pool; the next query opens a new one.
    pool.on('error', () => undefined);
    this.pool = pool;
    this.config = config;
    this.schema = options.schema;
  }

  /** Runs the migrations once; after a failure (database down) the next call tries again. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('The store is closed'));
    this.migrated ??= migrate(this.pool, this.schema).then(
      (schema) => {
        this.tablesSchema = schema;
      },
      (err: unknown) => {
        this.migrated = undefined;
        throw translate(err, '');
      },
    );
    return this.migrated;
  }

  /** The LISTEN/NOTIFY channel of this database and schema (after `ready`). */
  get notifyChannel(): string {
    return `roster_changes_${this.tablesSchema ?? this.schema ?? 'public'}`;
  }

  /** A client configured like the pool's, not from it: for LISTEN, which needs a session of its own. */
  newClient(): pg.Client {
    return new pg.Client(this.config);
  }

  async notify(payload: string): Promise<void> {
    try {
      await this.ready();
      await this.pool.query('SELECT pg_notify($1, $2)', [this.notifyChannel, payload]);
    } catch (err) {
      throw translate(err, '');
    }
  }

  async transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    await this.ready();
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw translate(err, '');
      }
      // A checked-out client whose connection drops between queries emits 'error'; the
      // next query then fails and is handled below, so the event itself needs no action.
      const ignore = () => undefined;
      client.on('error', ignore);
      const release = (err?: Error) => {
        client.removeListener('error', ignore);
        client.release(err);
      };
      const tx = new PgQueries((sql, params) => client.query<Row>(sql, params as unknown[]), true);
      let result: T;
      try {
        await client.query('BEGIN');
        result = await work(tx);
        await client.query('COMMIT');
      } catch (err) {
        let broken: Error | undefined;
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
        release(broken);
        const state = sqlstate(err);
        if ((state === '40001' || state === '40P01') && attempt < MAX_ATTEMPTS) {
          // Serialization failure or deadlock: nothing was written; run the work again.
          await delay(Math.random() * 5 * attempt);
          continue;
        }
        throw translate(err, '');
      }
      release();
      for (const effect of tx.takeEffects()) effect();
      return result;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.migrated?.catch(() => undefined);
    await this.pool.end();
  }
}
