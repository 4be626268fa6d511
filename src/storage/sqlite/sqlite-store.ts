import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConflictError } from '../../domain/errors.js';
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

export type SqliteSynchronous = 'NORMAL' | 'FULL';

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' is not supported (reads use a second connection). */
  path: string;
  /** FULL survives power loss; NORMAL (WAL) survives a process crash. */
  synchronous?: SqliteSynchronous;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Page cache for bulk loading, as SQLite's cache_size counts it (negative: KiB): 256 MiB. */
const BULK_CACHE_SIZE = -256 * 1024;

type Param = string | number | null;

/** Whole seconds: toISOString always ends in `.sssZ`. */
const iso = (d: Date): string => d.toISOString().slice(0, -5) + 'Z';
const bit = (b: boolean): number => (b ? 1 : 0);

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

// Statements run on hot paths are built once: a statement is looked up by its text, and a
// text built per call is hashed anew each time.
const WORKSPACE_BY_SID = `${WORKSPACE_SELECT} WHERE w.sid = ? AND w.account_sid = ?`;
const WORKER_IN_WORKSPACE = `${WORKER_SELECT} WHERE k.sid = ? AND k.workspace_sid = ?`;
const WORKER_BY_SID = `${WORKER_SELECT} WHERE k.sid = ?`;
const WORKER_CHANNEL_BY_SID_OR_NAME = `${WORKER_CHANNEL_SELECT}
  WHERE c.worker_sid = ? AND (c.sid = ? OR t.unique_name = ?) ORDER BY c.sid = ? DESC LIMIT 1`;
const UPDATE_WORKER = `
  UPDATE workers SET
    friendly_name = COALESCE(@name, friendly_name),
    name_key = COALESCE(@key, name_key),
    attributes = COALESCE(@attributes, attributes),
    date_status_changed = CASE WHEN @activity IS NOT NULL AND @activity <> activity_sid
                               THEN @now ELSE date_status_changed END,
    activity_sid = COALESCE(@activity, activity_sid),
    version = version + 1,
    date_updated = @now
  WHERE sid = @sid`;
/** The same, only if the checks of an update hold (`StoreTx.updateWorker`'s scope). */
const UPDATE_WORKER_IN_SCOPE = `${UPDATE_WORKER}
    AND workspace_sid = @workspace
    AND EXISTS (SELECT 1 FROM workspaces WHERE sid = @workspace AND account_sid = @account)
    AND (@activity IS NULL
         OR EXISTS (SELECT 1 FROM activities WHERE sid = @activity AND workspace_sid = @workspace))`;

/** Applies numbered migrations from migrations/ that this database has not seen yet. */
function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .pluck()
      .all()
      .map((v) => v as string),
  );
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{3}-.+\.sql$/.test(f))
    .sort();
  for (const file of files) {
    if (applied.has(file)) continue;
    const sql = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        file,
        iso(new Date()),
      );
    }).immediate();
  }
}

/**
 * The queries, bound to one connection. The store reads through a connection of its own
 * (WAL: it sees only committed data) and writes through another, inside transactions.
 */
class SqliteQueries implements StoreTx {
  private readonly statements = new Map<string, Database.Statement>();
  private effects: Array<() => void> = [];

  constructor(private readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private one(sql: string, ...params: Param[]): Row | undefined {
    return this.stmt(sql).get(...params) as Row | undefined;
  }

  private run(sql: string, ...params: Param[]): Database.RunResult {
    return this.stmt(sql).run(...params);
  }

  /** Runs a write whose unique violation means the client chose a name that is taken. */
  private runUnique(conflict: string, sql: string, ...params: Param[]): Database.RunResult {
    try {
      return this.stmt(sql).run(...params);
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(conflict);
      throw err;
    }
  }

  /** Pages a query whose rows carry `id`, ordered by id. `where` must be non-empty. */
  private page<T>(
    select: string,
    alias: string,
    where: string,
    params: Param[],
    query: PageQuery,
    map: (r: Row) => T,
  ) {
    const start = decodePageStart(query);
    const limit = query.pageSize + 1;
    let sql: string;
    let all: Param[];
    if (start.kind === 'offset') {
      sql = `${select} WHERE ${where} ORDER BY ${alias}.id LIMIT ? OFFSET ?`;
      all = [...params, limit, start.offset];
    } else if (start.kind === 'after') {
      sql = `${select} WHERE ${where} AND ${alias}.id > ? ORDER BY ${alias}.id LIMIT ?`;
      all = [...params, start.key, limit];
    } else {
      sql = `${select} WHERE ${where} AND ${alias}.id < ? ORDER BY ${alias}.id DESC LIMIT ?`;
      all = [...params, start.key, limit];
    }
    const rows = this.stmt(sql).all(...all) as Row[];
    const page = toPage(rows, start, query.pageSize, (r) => r.id as number);
    return { ...page, items: page.items.map(map) } satisfies Page<T>;
  }

  // ---- reads

  async getAccount(sid: string): Promise<Account | null> {
    const r = this.one('SELECT sid, auth_token FROM accounts WHERE sid = ?', sid);
    return r ? { sid: r.sid as string, authToken: r.auth_token as string } : null;
  }

  async getWorkspace(accountSid: string, sid: string): Promise<Workspace | null> {
    const r = this.one(WORKSPACE_BY_SID, sid, accountSid);
    return r ? toWorkspace(r) : null;
  }

  async hasWorkspace(accountSid: string, sid: string): Promise<boolean> {
    return (
      this.one('SELECT 1 FROM workspaces WHERE sid = ? AND account_sid = ?', sid, accountSid) !== undefined
    );
  }

  async listWorkspaces(accountSid: string, filter: WorkspaceFilter, query: PageQuery) {
    let where = 'w.account_sid = ?';
    const params: Param[] = [accountSid];
    if (filter.friendlyName !== undefined) {
      where += ' AND w.friendly_name = ?';
      params.push(filter.friendlyName);
    }
    return this.page(WORKSPACE_SELECT, 'w', where, params, query, toWorkspace);
  }

  async getActivity(workspaceSid: string, sid: string): Promise<Activity | null> {
    const r = this.one('SELECT * FROM activities WHERE sid = ? AND workspace_sid = ?', sid, workspaceSid);
    return r ? toActivity(r) : null;
  }

  async listActivities(workspaceSid: string, filter: ActivityFilter, query: PageQuery) {
    let where = 'a.workspace_sid = ?';
    const params: Param[] = [workspaceSid];
    if (filter.friendlyName !== undefined) {
      where += ' AND a.name_key = ?';
      params.push(nameKey(filter.friendlyName));
    }
    if (filter.available !== undefined) {
      where += ' AND a.available = ?';
      params.push(bit(filter.available));
    }
    return this.page('SELECT a.* FROM activities a', 'a', where, params, query, toActivity);
  }

  async getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null> {
    const r = this.one(
      'SELECT * FROM task_channels WHERE workspace_sid = ? AND (sid = ? OR unique_name = ?) ORDER BY sid = ? DESC LIMIT 1',
      workspaceSid,
      sidOrUniqueName,
      sidOrUniqueName,
      sidOrUniqueName,
    );
    return r ? toTaskChannel(r) : null;
  }

  async listTaskChannels(workspaceSid: string, query: PageQuery) {
    return this.page(
      'SELECT t.* FROM task_channels t',
      't',
      't.workspace_sid = ?',
      [workspaceSid],
      query,
      toTaskChannel,
    );
  }

  async getWorker(workspaceSid: string, sid: string): Promise<Worker | null> {
    const r = this.one(WORKER_IN_WORKSPACE, sid, workspaceSid);
    return r ? toWorker(r) : null;
  }

  async listWorkers(workspaceSid: string, filter: WorkerFilter, query: PageQuery) {
    let where = 'k.workspace_sid = ?';
    const params: Param[] = [workspaceSid];
    if (filter.activitySid !== undefined) {
      where += ' AND k.activity_sid = ?';
      params.push(filter.activitySid);
    }
    if (filter.activityName !== undefined) {
      where += ' AND a.name_key = ?';
      params.push(nameKey(filter.activityName));
    }
    if (filter.available !== undefined) {
      where += ' AND a.available = ?';
      params.push(bit(filter.available));
    }
    if (filter.friendlyName !== undefined) {
      where += ' AND k.name_key = ?';
      params.push(nameKey(filter.friendlyName));
    }
    return this.page(WORKER_SELECT, 'k', where, params, query, toWorker);
  }

  async getWorkerChannel(workerSid: string, sidOrUniqueName: string): Promise<WorkerChannel | null> {
    const r = this.one(
      WORKER_CHANNEL_BY_SID_OR_NAME,
      workerSid,
      sidOrUniqueName,
      sidOrUniqueName,
      sidOrUniqueName,
    );
    return r ? toWorkerChannel(r) : null;
  }

  async listWorkerChannels(workerSid: string, query: PageQuery) {
    return this.page(WORKER_CHANNEL_SELECT, 'c', 'c.worker_sid = ?', [workerSid], query, toWorkerChannel);
  }

  async activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]> {
    const rows =
      taskChannelSid === undefined
        ? this.stmt('SELECT sid, friendly_name, workers FROM activities WHERE workspace_sid = ? ORDER BY id')
            .raw()
            .all(workspaceSid)
        : this.stmt(
            `SELECT a.sid, a.friendly_name, COALESCE(c.workers, 0)
               FROM activities a LEFT JOIN channel_activity_counts c
                 ON c.task_channel_sid = ? AND c.activity_sid = a.sid
              WHERE a.workspace_sid = ? ORDER BY a.id`,
          )
            .raw()
            .all(taskChannelSid, workspaceSid);
    return (rows as [string, string, number][]).map(([activitySid, friendlyName, workers]) => ({
      activitySid,
      friendlyName,
      workers,
    }));
  }

  // ---- writes

  async upsertAccount(account: Account, now: Date): Promise<void> {
    this.run(
      `INSERT INTO accounts (sid, auth_token, date_created, date_updated) VALUES (?, ?, ?, ?)
       ON CONFLICT (sid) DO UPDATE SET auth_token = excluded.auth_token, date_updated = excluded.date_updated
       WHERE auth_token <> excluded.auth_token`,
      account.sid,
      account.authToken,
      iso(now),
      iso(now),
    );
  }

  async insertWorkspace(w: NewWorkspace): Promise<void> {
    this.run(
      `INSERT INTO workspaces (sid, account_sid, friendly_name, event_callback_url, events_filter, multi_task_enabled,
         prioritize_queue_order, default_activity_sid, timeout_activity_sid, date_created, date_updated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      w.sid,
      w.accountSid,
      w.friendlyName,
      w.eventCallbackUrl,
      w.eventsFilter,
      bit(w.multiTaskEnabled),
      w.prioritizeQueueOrder,
      w.defaultActivitySid,
      w.timeoutActivitySid,
      iso(w.now),
      iso(w.now),
    );
  }

  async updateWorkspace(sid: string, p: WorkspacePatch, now: Date): Promise<void> {
    this.run(
      `UPDATE workspaces SET
         friendly_name = COALESCE(?, friendly_name),
         event_callback_url = CASE WHEN ? THEN ? ELSE event_callback_url END,
         events_filter = CASE WHEN ? THEN ? ELSE events_filter END,
         multi_task_enabled = COALESCE(?, multi_task_enabled),
         prioritize_queue_order = COALESCE(?, prioritize_queue_order),
         default_activity_sid = COALESCE(?, default_activity_sid),
         timeout_activity_sid = COALESCE(?, timeout_activity_sid),
         date_updated = ?
       WHERE sid = ?`,
      p.friendlyName ?? null,
      bit(p.eventCallbackUrl !== undefined),
      p.eventCallbackUrl ?? null,
      bit(p.eventsFilter !== undefined),
      p.eventsFilter ?? null,
      p.multiTaskEnabled === undefined ? null : bit(p.multiTaskEnabled),
      p.prioritizeQueueOrder ?? null,
      p.defaultActivitySid ?? null,
      p.timeoutActivitySid ?? null,
      iso(now),
      sid,
    );
  }

  async deleteWorkspace(sid: string): Promise<void> {
    // Children first: the count triggers of workers and channels then find nothing left to count.
    this.run('DELETE FROM worker_channels WHERE workspace_sid = ?', sid);
    this.run('DELETE FROM workers WHERE workspace_sid = ?', sid);
    this.run(
      'DELETE FROM channel_activity_counts WHERE task_channel_sid IN (SELECT sid FROM task_channels WHERE workspace_sid = ?)',
      sid,
    );
    this.run('DELETE FROM task_channels WHERE workspace_sid = ?', sid);
    this.run('DELETE FROM activities WHERE workspace_sid = ?', sid);
    this.run('DELETE FROM workspaces WHERE sid = ?', sid);
  }

  async insertActivity(a: NewActivity): Promise<void> {
    this.runUnique(
      `An activity named ${a.friendlyName} already exists in this workspace`,
      `INSERT INTO activities (sid, account_sid, workspace_sid, friendly_name, name_key, available, date_created, date_updated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      a.sid,
      a.accountSid,
      a.workspaceSid,
      a.friendlyName,
      nameKey(a.friendlyName),
      bit(a.available),
      iso(a.now),
      iso(a.now),
    );
  }

  async updateActivity(sid: string, friendlyName: string, now: Date): Promise<void> {
    this.runUnique(
      `An activity named ${friendlyName} already exists in this workspace`,
      'UPDATE activities SET friendly_name = ?, name_key = ?, date_updated = ? WHERE sid = ?',
      friendlyName,
      nameKey(friendlyName),
      iso(now),
      sid,
    );
  }

  async deleteActivity(sid: string): Promise<void> {
    this.run('DELETE FROM channel_activity_counts WHERE activity_sid = ?', sid);
    this.run('DELETE FROM activities WHERE sid = ?', sid);
  }

  async insertTaskChannel(c: NewTaskChannel, wc: { capacity: number; available: boolean }): Promise<void> {
    this.runUnique(
      `A task channel with unique name ${c.uniqueName} already exists in this workspace`,
      `INSERT INTO task_channels (sid, account_sid, workspace_sid, unique_name, friendly_name, channel_optimized_routing,
         date_created, date_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      c.sid,
      c.accountSid,
      c.workspaceSid,
      c.uniqueName,
      c.friendlyName,
      bit(c.channelOptimizedRouting),
      iso(c.now),
      iso(c.now),
    );
    this.run(
      `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
         date_created, date_updated)
       SELECT 'WC' || lower(hex(randomblob(16))), account_sid, workspace_sid, sid, ?, ?, ?, ?, ?
         FROM workers WHERE workspace_sid = ? ORDER BY id`,
      c.sid,
      wc.capacity,
      bit(wc.available),
      iso(c.now),
      iso(c.now),
      c.workspaceSid,
    );
  }

  async updateTaskChannel(sid: string, p: TaskChannelPatch, now: Date): Promise<void> {
    this.run(
      `UPDATE task_channels SET friendly_name = COALESCE(?, friendly_name),
         channel_optimized_routing = COALESCE(?, channel_optimized_routing), date_updated = ? WHERE sid = ?`,
      p.friendlyName ?? null,
      p.channelOptimizedRouting === undefined ? null : bit(p.channelOptimizedRouting),
      iso(now),
      sid,
    );
  }

  async deleteTaskChannel(sid: string): Promise<void> {
    this.run('DELETE FROM worker_channels WHERE task_channel_sid = ?', sid);
    this.run('DELETE FROM channel_activity_counts WHERE task_channel_sid = ?', sid);
    this.run('DELETE FROM task_channels WHERE sid = ?', sid);
  }

  async insertWorker(k: NewWorker, wc: { capacity: number; available: boolean }): Promise<void> {
    this.runUnique(
      `A worker named ${k.friendlyName} already exists in this workspace`,
      `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes, version,
         date_created, date_updated, date_status_changed) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
      k.sid,
      k.accountSid,
      k.workspaceSid,
      k.friendlyName,
      nameKey(k.friendlyName),
      k.activitySid,
      k.attributes,
      iso(k.now),
      iso(k.now),
      iso(k.now),
    );
    this.run(
      `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity, available,
         date_created, date_updated)
       SELECT 'WC' || lower(hex(randomblob(16))), account_sid, workspace_sid, ?, sid, ?, ?, ?, ?
         FROM task_channels WHERE workspace_sid = ? ORDER BY id`,
      k.sid,
      wc.capacity,
      bit(wc.available),
      iso(k.now),
      iso(k.now),
      k.workspaceSid,
    );
  }

  async updateWorker(sid: string, p: WorkerPatch, now: Date, scope?: WorkerScope): Promise<Worker | null> {
    // Read back with a SELECT rather than RETURNING: SQLite gathers RETURNING rows in a temporary
    // b-tree, and allocating its pages costs more than reading the row again.
    try {
      const { changes } = this.stmt(scope ? UPDATE_WORKER_IN_SCOPE : UPDATE_WORKER).run({
        name: p.friendlyName ?? null,
        key: p.friendlyName === undefined ? null : nameKey(p.friendlyName),
        attributes: p.attributes ?? null,
        activity: p.activitySid ?? null,
        now: iso(now),
        sid,
        ...(scope ? { workspace: scope.workspaceSid, account: scope.accountSid } : {}),
      });
      if (changes === 0) return null;
    } catch (err) {
      if (isUniqueViolation(err))
        throw new ConflictError(`A worker named ${p.friendlyName} already exists in this workspace`);
      throw err;
    }
    return toWorker(this.one(WORKER_BY_SID, sid)!);
  }

  async insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void> {
    if (workers.length === 0) return;
    const taskChannels = (
      this.stmt('SELECT * FROM task_channels WHERE workspace_sid = ? ORDER BY id').all(workspaceSid) as Row[]
    ).map(toTaskChannel);
    // Rows go in as one JSON array per table and statement: binding millions of values one by
    // one costs more than the inserts. The count triggers fire per row as for any insert;
    // workers go first so that their channels' triggers find the worker's activity.
    const workerRows: unknown[] = [];
    const channelRows: unknown[] = [];
    let lastNow: Date | undefined;
    let at = '';
    for (const k of workers) {
      if (k.workspaceSid !== workspaceSid) throw new Error(`Worker ${k.sid} is not in ${workspaceSid}`);
      if (k.now !== lastNow) {
        lastNow = k.now;
        at = iso(k.now);
      }
      workerRows.push([
        k.sid,
        k.accountSid,
        k.friendlyName,
        nameKey(k.friendlyName),
        k.activitySid,
        k.attributes,
        at,
      ]);
      for (const c of taskChannels) {
        const settings = channelFor(k, c);
        channelRows.push([k.accountSid, k.sid, c.sid, settings.capacity, bit(settings.available), at]);
      }
    }
    // A batch touches far more pages than the default 2 MB cache holds; a big cache for the
    // duration of the call saves re-reading index pages (the pages are freed again after it).
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${BULK_CACHE_SIZE}`);
    try {
      this.stmt(
        `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes,
           version, date_created, date_updated, date_status_changed)
         SELECT r ->> 0, r ->> 1, ?, r ->> 2, r ->> 3, r ->> 4, r ->> 5, 0, r ->> 6, r ->> 6, r ->> 6
           FROM (SELECT value AS r FROM json_each(?))`,
      ).run(workspaceSid, JSON.stringify(workerRows));
      this.stmt(
        `INSERT INTO worker_channels (sid, account_sid, workspace_sid, worker_sid, task_channel_sid, capacity,
           available, date_created, date_updated)
         SELECT 'WC' || lower(hex(randomblob(16))), r ->> 0, ?, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, r ->> 5
           FROM (SELECT value AS r FROM json_each(?))`,
      ).run(workspaceSid, JSON.stringify(channelRows));
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('A worker with one of these names already exists');
      throw err;
    } finally {
      this.db.pragma(`cache_size = ${cacheSize}`);
    }
  }

  async deleteWorker(sid: string): Promise<void> {
    this.run('DELETE FROM workers WHERE sid = ?', sid);
  }

  async updateWorkerChannel(sid: string, p: WorkerChannelPatch, now: Date): Promise<void> {
    this.run(
      `UPDATE worker_channels SET capacity = COALESCE(?, capacity), available = COALESCE(?, available), date_updated = ?
       WHERE sid = ?`,
      p.capacity ?? null,
      p.available === undefined ? null : bit(p.available),
      iso(now),
      sid,
    );
  }

  onCommit(effect: () => void): void {
    this.effects.push(effect);
  }

  /** Hands over the effects queued by the transaction that just ended. */
  takeEffects(): Array<() => void> {
    const e = this.effects;
    this.effects = [];
    return e;
  }
}

interface PendingTransaction {
  work: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteStore extends SqliteQueries implements Store {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Database.Database;
  private readonly reader: Database.Database;
  private readonly writes: SqliteQueries;
  /** Batches run one at a time on the writer connection; this chains them. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Transactions asked for in this turn of the event loop, not yet started. */
  private pending: PendingTransaction[] | null = null;

  static open(options: SqliteStoreOptions): SqliteStore {
    const writer = new Database(options.path);
    try {
      writer.pragma('journal_mode = WAL');
      writer.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      writer.pragma('busy_timeout = 5000');
      writer.pragma('foreign_keys = OFF');
      migrate(writer);
      const reader = new Database(options.path, { readonly: true });
      reader.pragma('busy_timeout = 5000');
      return new SqliteStore(writer, reader);
    } catch (err) {
      writer.close();
      throw err;
    }
  }

  private constructor(writer: Database.Database, reader: Database.Database) {
    super(reader);
    this.writer = writer;
    this.reader = reader;
    this.writes = new SqliteQueries(writer);
    this.dataVersion = reader.prepare('PRAGMA data_version').pluck();
  }

  // ---- The read cache. The hot reads (auth, workspace, statistics) are answered from memory
  // while nothing has been committed since they were read. SQLite's data_version on the reader
  // connection changes with every commit by another connection: this process's writer, or
  // another process such as `roster seed`. It is checked once per turn of the event loop
  // (everything a turn serves arrived before the turn began) and again after each local commit,
  // so a read that starts after a write has returned always sees it.

  private readonly dataVersion: Database.Statement;
  private cachedVersion = -1;
  private versionChecked = false;
  /** Goes up each time the cache is emptied: what `readGeneration` reports. */
  private generation = 0;
  private readonly cache = new Map<string, unknown>();
  private static readonly CACHE_LIMIT = 10_000;

  private checkVersion(): void {
    if (this.versionChecked) return;
    this.versionChecked = true;
    setImmediate(() => (this.versionChecked = false));
    const version = this.dataVersion.get() as number;
    if (version !== this.cachedVersion || this.cache.size >= SqliteStore.CACHE_LIMIT) {
      this.cache.clear();
      this.cachedVersion = version;
      this.generation++;
    }
  }

  readGeneration(): number {
    this.checkVersion();
    return this.generation;
  }

  private async cached<T>(key: string, read: () => Promise<T>): Promise<T> {
    this.checkVersion();
    if (this.cache.has(key)) return this.cache.get(key) as T;
    // Read after the check, so the value is at least as new as the version it is kept under;
    // and keep it only if no commit came in while it was awaited (that would make it stale
    // under the next version).
    const generation = this.generation;
    const value = await read();
    if (this.versionChecked && generation === this.generation) this.cache.set(key, value);
    return value;
  }

  override getAccount(sid: string): Promise<Account | null> {
    return this.cached(`account|${sid}`, () => super.getAccount(sid));
  }

  override getWorkspace(accountSid: string, sid: string): Promise<Workspace | null> {
    return this.cached(`workspace|${accountSid}|${sid}`, () => super.getWorkspace(accountSid, sid));
  }

  override getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null> {
    return this.cached(`channel|${workspaceSid}|${sidOrUniqueName}`, () =>
      super.getTaskChannel(workspaceSid, sidOrUniqueName),
    );
  }

  override activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]> {
    return this.cached(`counts|${workspaceSid}|${taskChannelSid ?? ''}`, () =>
      super.activityCounts(workspaceSid, taskChannelSid),
    );
  }

  /**
   * Group commit: the transactions asked for in one turn of the event loop run one after another,
   * each in a savepoint of its own, inside one SQLite transaction; one COMMIT makes them all
   * durable, and only then does any of them resolve. A transaction that fails rolls back its own
   * savepoint alone. So a write costs one commit (with FULL, one fsync) per batch, not per request.
   */
  transaction<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.pending) {
        const batch: PendingTransaction[] = (this.pending = []);
        setImmediate(() => {
          this.pending = null;
          this.queue = this.queue.then(() => this.runBatch(batch));
        });
      }
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  private async runBatch(batch: PendingTransaction[]): Promise<void> {
    const writer = this.writer;
    const done: { t: PendingTransaction; result: unknown; effects: Array<() => void> }[] = [];
    /** Nothing of the batch was committed: every transaction still waiting learns so. */
    const failAll = (err: unknown, rest: PendingTransaction[]) => {
      for (const d of done) d.t.reject(err);
      for (const t of rest) t.reject(err);
    };
    try {
      writer.exec('BEGIN IMMEDIATE');
    } catch (err) {
      return failAll(err, batch);
    }
    for (const [i, t] of batch.entries()) {
      writer.exec('SAVEPOINT tx');
      try {
        const result = await t.work(this.writes);
        writer.exec('RELEASE tx');
        done.push({ t, result, effects: this.writes.takeEffects() });
      } catch (err) {
        this.writes.takeEffects();
        if (!writer.inTransaction) return failAll(err, batch.slice(i)); // SQLite gave up the whole transaction
        writer.exec('ROLLBACK TO tx');
        writer.exec('RELEASE tx');
        t.reject(err);
      }
    }
    try {
      writer.exec('COMMIT');
    } catch (err) {
      if (writer.inTransaction) writer.exec('ROLLBACK');
      return failAll(err, []);
    }
    this.versionChecked = false; // the next read looks at data_version again
    for (const d of done) {
      for (const effect of d.effects) effect();
      d.t.resolve(d.result);
    }
  }

  async close(): Promise<void> {
    // A batch asked for in this turn is chained on the next; let it run first.
    while (this.pending) await new Promise((resolve) => setImmediate(resolve));
    await this.queue;
    this.reader.close();
    this.writer.close();
  }
}
