import Database from 'better-sqlite3';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Compilable } from 'kysely';
import { ConflictError, UnavailableError } from '../../domain/errors.js';
import type { Account, ActivityCount, TaskChannel, Workspace } from '../../domain/types.js';
import type {
  UpdatedWorker,
  CommittedEventsListener,
  NewDomainEvent,
  NewWorker,
  Store,
  StoreTx,
  WorkerChannelSettings,
  WorkerPatch,
  WorkerScope,
} from '../../services/ports/store.js';
import { RoutingQueries } from '../crud-routing.js';
import { isDefaultChannel } from '../../domain/worker-channels.js';
import { eventRow } from '../event-queries.js';
import { eventSid } from '../event-sids.js';
import { Outbox } from '../outbox.js';
import { Checkpointer, WRITER_AUTOCHECKPOINT_PAGES } from './checkpointer.js';
import { nameKey, previousOf, toPreviousActivity, toWorker, type Row } from '../rows.js';
import { queryBuilder } from '../schema.js';

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
/**
 * The writer's page cache: 64 MiB rather than SQLite's 2 MiB. Updates of workers spread over a
 * million rows touch index pages all over the file; with the default cache each read them
 * again from the file (a pread per page per update).
 */
const WRITER_CACHE_SIZE = -64 * 1024;

const BUILDER = queryBuilder('sqlite');

/** Whole seconds: toISOString always ends in `.sssZ`. */
const iso = (d: Date): string => d.toISOString().slice(0, -5) + 'Z';
const bit = (b: boolean): number => (b ? 1 : 0);

/** SQLite binds no booleans or dates: they are stored as 0/1 and ISO text. */
const toSqlite = (v: unknown): unknown => (typeof v === 'boolean' ? bit(v) : v instanceof Date ? iso(v) : v);

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function isDiskFull(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === 'SQLITE_FULL';
}

/** SQLITE_FULL: the disk (or the file's size limit) is full; it passes once space is freed. */
function diskFull(err: Error): UnavailableError {
  return new UnavailableError(err.message, {
    clientMessage: 'Service Unavailable: the server cannot store more data right now',
    retryAfterSeconds: 30,
    operatorMessage:
      'SQLite cannot write: the disk holding the database is full (SQLITE_FULL). Writes are refused with 503 until space is freed; nothing else is needed.',
  });
}

/** Driver errors become domain errors here, and nowhere else. */
function translate(err: unknown, conflict: string): unknown {
  if (isUniqueViolation(err)) return new ConflictError(conflict);
  return isDiskFull(err) ? diskFull(err as Error) : err;
}

// The guarded worker update, by hand: the hottest write, one statement that makes its checks.
// A patch whose every value is the worker's already changes no row (version and date_updated
// stay); a NULL parameter (not in the patch) compares as NULL, never as a change.
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
  WHERE sid = @sid
    AND (@name <> friendly_name OR @attributes <> attributes OR @activity <> activity_sid)`;
/** The same, only if the checks of an update hold (`StoreTx.updateWorker`'s scope). */
const UPDATE_WORKER_IN_SCOPE = `${UPDATE_WORKER}
    AND workspace_sid = @workspace
    AND EXISTS (SELECT 1 FROM workspaces WHERE sid = @workspace AND account_sid = @account)
    AND (@activity IS NULL
         OR EXISTS (SELECT 1 FROM activities WHERE sid = @activity AND workspace_sid = @workspace))`;

const WORKER_ACTIVITY = `
  SELECT w.activity_sid, a.friendly_name AS activity_name, w.date_status_changed
    FROM workers w JOIN activities a ON a.sid = w.activity_sid
   WHERE w.sid = ?`;

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
 * The ordinary ones are written once (CrudQueries); the hot ones are here by hand.
 */
class SqliteQueries extends RoutingQueries {
  private readonly statements = new Map<string, Database.Statement>();
  /** The worker read back after an update, as `getWorker` reads it. */
  private readonly workerBySid = this.lookup.workerBySid('').compile().sql;

  constructor(private readonly conn: Database.Database) {
    super(BUILDER);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.conn.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  protected async rows(query: Compilable, conflict = ''): Promise<Row[]> {
    const { sql, parameters } = query.compile();
    try {
      return this.stmt(sql).all(...parameters.map(toSqlite)) as Row[];
    } catch (err) {
      throw translate(err, conflict);
    }
  }

  protected async run(query: Compilable, conflict = ''): Promise<void> {
    const { sql, parameters } = query.compile();
    try {
      this.stmt(sql).run(...parameters.map(toSqlite));
    } catch (err) {
      throw translate(err, conflict);
    }
  }

  /** One writer at a time: nothing to hold apart. */
  protected async lockWorkspace(): Promise<void> {}

  protected readonly skipLockedTimers = false;

  protected async dropCounts(of: { activitySid: string } | { taskChannelSid: string }): Promise<void> {
    await this.run(
      'activitySid' in of
        ? this.db.deleteFrom('channel_activity_unavailable').where('activity_sid', '=', of.activitySid)
        : this.db
            .deleteFrom('channel_activity_unavailable')
            .where('task_channel_sid', '=', of.taskChannelSid),
    );
  }

  // ---- hot statements

  async activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]> {
    const rows =
      taskChannelSid === undefined
        ? this.stmt('SELECT sid, friendly_name, workers FROM activities WHERE workspace_sid = ? ORDER BY id')
            .raw()
            .all(workspaceSid)
        : this.stmt(
            `SELECT a.sid, a.friendly_name, a.workers - COALESCE(u.workers, 0)
               FROM activities a LEFT JOIN channel_activity_unavailable u
                 ON u.task_channel_sid = ? AND u.activity_sid = a.sid
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

  async updateWorker(
    sid: string,
    p: WorkerPatch,
    now: Date,
    scope?: WorkerScope,
  ): Promise<UpdatedWorker | null> {
    // The activity before (one writer: nothing can change it between this read and the update).
    const before =
      p.activitySid === undefined ? undefined : (this.stmt(WORKER_ACTIVITY).get(sid) as Row | undefined);
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
      throw translate(err, `A worker named ${p.friendlyName} already exists in this workspace`);
    }
    const worker = toWorker(this.stmt(this.workerBySid).get(sid) as Row);
    return { ...worker, previous: before ? toPreviousActivity(before) : previousOf(worker) };
  }

  /**
   * Bulk appends (`roster seed` appends an event per worker) with one prepared statement run per
   * event: measured cheaper than one JSON array, whose columns SQLite parses once per column.
   */
  override async appendEvents(events: readonly NewDomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const insert = this.stmt(this.eventInsert.sql);
    const appended: NewDomainEvent[] = [];
    try {
      for (const e of events) {
        const row = eventRow(e);
        const id = Number(insert.run(...Object.values(row).map(toSqlite)).lastInsertRowid);
        appended.push({ ...e, sid: row.sid ?? eventSid(id, e.workspaceSid) });
      }
    } catch (err) {
      throw translate(err, '');
    }
    this.appended(appended);
  }

  async insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void> {
    if (workers.length === 0) return;
    const taskChannels = await this.taskChannelsOf(workspaceSid);
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
        if (!isDefaultChannel(settings))
          channelRows.push([k.sid, c.sid, settings.capacity, bit(settings.available), at]);
      }
    }
    // A batch touches far more pages than the default 2 MB cache holds; a big cache for the
    // duration of the call saves re-reading index pages (the pages are freed again after it).
    const cacheSize = this.conn.pragma('cache_size', { simple: true }) as number;
    this.conn.pragma(`cache_size = ${BULK_CACHE_SIZE}`);
    try {
      this.stmt(
        `INSERT INTO workers (sid, account_sid, workspace_sid, friendly_name, name_key, activity_sid, attributes,
           version, date_created, date_updated, date_status_changed)
         SELECT r ->> 0, r ->> 1, ?, r ->> 2, r ->> 3, r ->> 4, r ->> 5, 0, r ->> 6, r ->> 6, r ->> 6
           FROM (SELECT value AS r FROM json_each(?))`,
      ).run(workspaceSid, JSON.stringify(workerRows));
      if (channelRows.length > 0) {
        this.stmt(
          `INSERT INTO worker_channels (worker_sid, task_channel_sid, capacity, available, assigned_tasks, date_updated)
           SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, 0, r ->> 4
             FROM (SELECT value AS r FROM json_each(?))`,
        ).run(JSON.stringify(channelRows));
      }
    } catch (err) {
      throw translate(err, 'A worker with one of these names already exists');
    } finally {
      this.conn.pragma(`cache_size = ${cacheSize}`);
    }
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
  private readonly outbox = new Outbox();

  /** The database file as it was opened: writes are refused once the path names another file, or none. */
  private readonly file: { path: string; dev: number; ino: number };
  /** Checkpoints the WAL off the event loop (see checkpointer.ts). */
  private readonly checkpointer: Checkpointer;
  private fileLost = false;

  static open(options: SqliteStoreOptions): SqliteStore {
    const writer = new Database(options.path);
    try {
      writer.pragma('journal_mode = WAL');
      writer.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      writer.pragma('busy_timeout = 5000');
      writer.pragma('foreign_keys = OFF');
      writer.pragma(`cache_size = ${WRITER_CACHE_SIZE}`);
      writer.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
      migrate(writer);
      const reader = new Database(options.path, { readonly: true });
      reader.pragma('busy_timeout = 5000');
      const { dev, ino } = statSync(options.path);
      return new SqliteStore(writer, reader, { path: options.path, dev, ino });
    } catch (err) {
      writer.close();
      throw err;
    }
  }

  private constructor(
    writer: Database.Database,
    reader: Database.Database,
    file: { path: string; dev: number; ino: number },
  ) {
    super(reader);
    this.file = file;
    this.checkpointer = new Checkpointer(file.path);
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
    // under the next version). What was not found is not kept: anyone may ask for made-up
    // SIDs (accounts before authenticating), and a miss needs no speed.
    const generation = this.generation;
    const value = await read();
    if (value !== null && this.versionChecked && generation === this.generation) this.cache.set(key, value);
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

  onEvents(listener: CommittedEventsListener): () => void {
    return this.outbox.on(listener);
  }

  /**
   * Whether the path still names the file this store writes. A database deleted (or replaced)
   * while open takes writes into a file nobody will open again: they would be lost at restart.
   */
  private fileIsOurs(): boolean {
    if (this.fileLost) return false;
    try {
      const { dev, ino } = statSync(this.file.path);
      if (dev === this.file.dev && ino === this.file.ino) return true;
    } catch {
      // gone
    }
    this.fileLost = true;
    return false;
  }

  private fileLostError(): UnavailableError {
    return new UnavailableError(`${this.file.path} was deleted or replaced`, {
      clientMessage: 'Service Unavailable: the server cannot store data until it is restarted',
      operatorMessage: `The database file ${this.file.path} was deleted or replaced while Roster was running: every write is refused (503) rather than kept in a file that is gone. Restart Roster (it then opens whatever that path holds).`,
    });
  }

  private async runBatch(batch: PendingTransaction[]): Promise<void> {
    const writer = this.writer;
    const done: {
      t: PendingTransaction;
      result: unknown;
      committed: ReturnType<SqliteQueries['takeCommitted']>;
    }[] = [];
    /** Nothing of the batch was committed: every transaction still waiting learns so. */
    const failAll = (err: unknown, rest: PendingTransaction[]) => {
      const failure = isDiskFull(err) ? diskFull(err as Error) : err;
      for (const d of done) d.t.reject(failure);
      for (const t of rest) t.reject(failure);
    };
    if (this.fileLost) return failAll(this.fileLostError(), batch);
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
        done.push({ t, result, committed: this.writes.takeCommitted() });
      } catch (err) {
        this.writes.takeCommitted(); // its effects and events go with its rollback
        if (!writer.inTransaction) return failAll(err, batch.slice(i)); // SQLite gave up the whole transaction
        writer.exec('ROLLBACK TO tx');
        writer.exec('RELEASE tx');
        t.reject(isDiskFull(err) ? diskFull(err as Error) : err);
      }
    }
    // Checked last, so no write is acknowledged after the file has gone (one stat per batch).
    if (!this.fileIsOurs()) {
      writer.exec('ROLLBACK');
      return failAll(this.fileLostError(), []);
    }
    try {
      writer.exec('COMMIT');
    } catch (err) {
      if (writer.inTransaction) writer.exec('ROLLBACK');
      return failAll(err, []);
    }
    this.versionChecked = false; // the next read looks at data_version again
    this.checkpointer.committed();
    for (const d of done) {
      for (const effect of d.committed.effects) effect();
      this.outbox.publish(d.committed.events);
      d.t.resolve(d.result);
    }
  }

  async close(): Promise<void> {
    // A batch asked for in this turn is chained on the next; let it run first.
    while (this.pending) await new Promise((resolve) => setImmediate(resolve));
    await this.queue;
    await this.checkpointer.close();
    this.reader.close();
    this.writer.close();
  }
}
