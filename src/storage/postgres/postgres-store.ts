import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Compilable } from 'kysely';
import { ConflictError, UnavailableError } from '../../domain/errors.js';
import type { ActivityCount, TaskChannel, Worker } from '../../domain/types.js';
import type {
  UpdatedWorker,
  CommittedEventsListener,
  NewWorker,
  Store,
  StoreTx,
  WorkerChannelSettings,
  WorkerPatch,
  WorkerScope,
} from '../../services/ports/store.js';
import { RoutingQueries } from '../crud-routing.js';
import { isDefaultChannel } from '../../domain/worker-channels.js';
import { Outbox } from '../outbox.js';
import { nameKey, previousOf, toPreviousActivity, toWorker, type Row } from '../rows.js';
import { queryBuilder } from '../schema.js';

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
  /**
   * Longest to wait for a query's reply on the client side (default 15 s; 0 = no limit): the
   * statement timeout cannot help when the server or the network is gone.
   */
  queryTimeoutMs?: number;
  /** PostgreSQL ends a session idle inside a transaction this long, releasing its locks (default 30 s; 0 = never). */
  idleInTransactionTimeoutMs?: number;
  /** TCP keepalive probes start after this much idle time on a connection (default 10 s). */
  keepAliveDelayMs?: number;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** First key of the advisory lock that migrations hold; the second is the schema's hash. */
const MIGRATION_LOCK = 0x526f7374; // 'Rost'
const MAX_ATTEMPTS = 8;
const BUILDER = queryBuilder('postgres');
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
/** Migrations may wait on another node's lock or run long: a client-side timeout that never bites. */
const NO_QUERY_TIMEOUT = 2 ** 31 - 1;

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
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed/i.test(
    err.message,
  );
}

/** Driver errors become domain errors here, and nowhere else. */
function translate(err: unknown, conflict: string): unknown {
  const state = sqlstate(err);
  if (state === '23505') return new ConflictError(conflict);
  if (state === '23503') return new ConflictError('The resource is still in use');
  if (state === '53100') {
    return new UnavailableError((err as Error).message, {
      clientMessage: 'Service Unavailable: the server cannot store more data right now',
      retryAfterSeconds: 30,
      operatorMessage:
        'PostgreSQL cannot write: its disk is full (53100 disk_full). Writes are refused with 503 until space is freed on the database server.',
    });
  }
  if (isUnavailable(err)) {
    return new UnavailableError(`The database cannot be reached: ${(err as Error).message}`);
  }
  return err;
}

/**
 * The queries, run either on the pool (each read its own statement, committed data) or on
 * one client inside a transaction (READ COMMITTED; the rows a transaction is about to change
 * are locked first, so a concurrent change is waited for and then seen). The ordinary ones
 * are written once (CrudQueries); the hot ones are here by hand.
 */
class PgQueries extends RoutingQueries {
  constructor(
    private readonly exec: Run,
    private readonly inTransaction: boolean,
  ) {
    super(BUILDER);
  }

  private async query(text: string, params: readonly Param[], conflict = ''): Promise<Row[]> {
    try {
      return (await this.exec(text, params.map(encodeParam))).rows.map(decodeRow);
    } catch (err) {
      throw translate(err, conflict);
    }
  }

  protected rows(query: Compilable, conflict = ''): Promise<Row[]> {
    const { sql: text, parameters } = query.compile();
    return this.query(text, parameters as readonly Param[], conflict);
  }

  protected async run(query: Compilable, conflict = ''): Promise<void> {
    await this.rows(query, conflict);
  }

  /** Workers take it shared, a new task channel exclusive (see `insertTaskChannel`). */
  protected async lockWorkspace(workspaceSid: string, mode: 'shared' | 'exclusive'): Promise<void> {
    await this.query(
      mode === 'shared'
        ? 'SELECT pg_advisory_xact_lock_shared(hashtext($1))'
        : 'SELECT pg_advisory_xact_lock(hashtext($1))',
      [workspaceSid],
    );
  }

  protected readonly skipLockedTimers = true;

  // A statistics roll holds its watermark row and waits for every transaction appending events.
  protected override readonly rowLocks = true;
  protected override async lockEventsForRoll(): Promise<void> {
    await this.query('LOCK TABLE events IN SHARE MODE', []);
  }

  protected async dropCounts(of: { activitySid: string } | { taskChannelSid: string }): Promise<void> {
    if ('activitySid' in of) {
      await this.query('DELETE FROM channel_activity_unavailable WHERE activity_sid = $1', [of.activitySid]);
      await this.query('DELETE FROM activity_counts WHERE activity_sid = $1', [of.activitySid]);
    } else {
      await this.query('DELETE FROM channel_activity_unavailable WHERE task_channel_sid = $1', [
        of.taskChannelSid,
      ]);
    }
  }

  override async getWorker(workspaceSid: string, sid: string): Promise<Worker | null> {
    if (this.inTransaction) {
      // In a transaction the worker is read to be changed: lock it first, so an If-Match
      // check and the write that follows see the same version even when another node writes
      // it too. (Locked on its own: FOR UPDATE on the join would re-check a concurrently
      // moved worker against its old activity row and lose it.)
      const [locked] = await this.query(
        'SELECT 1 FROM workers WHERE sid = $1 AND workspace_sid = $2 FOR UPDATE',
        [sid, workspaceSid],
      );
      if (!locked) return null;
    }
    return super.getWorker(workspaceSid, sid);
  }

  // ---- hot statements

  async activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]> {
    const rows =
      taskChannelSid === undefined
        ? await this.query(
            `SELECT a.sid, a.friendly_name,
                    COALESCE((SELECT sum(c.workers) FROM activity_counts c WHERE c.activity_sid = a.sid), 0)::int AS workers
               FROM activities a WHERE a.workspace_sid = $1 ORDER BY a.id`,
            [workspaceSid],
          )
        : await this.query(
            `SELECT a.sid, a.friendly_name,
                    (COALESCE((SELECT sum(c.workers) FROM activity_counts c WHERE c.activity_sid = a.sid), 0)
                     - COALESCE((SELECT sum(u.workers) FROM channel_activity_unavailable u
                                  WHERE u.task_channel_sid = $2 AND u.activity_sid = a.sid), 0))::int AS workers
               FROM activities a WHERE a.workspace_sid = $1 ORDER BY a.id`,
            [workspaceSid, taskChannelSid],
          );
    return rows.map((r) => ({
      activitySid: r.sid as string,
      friendlyName: r.friendly_name as string,
      workers: r.workers as number,
    }));
  }

  async insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void> {
    if (workers.length === 0) return;
    await this.query('SELECT pg_advisory_xact_lock_shared(hashtext($1))', [workspaceSid]);
    const taskChannels = await this.taskChannelsOf(workspaceSid);
    for (const k of workers) {
      if (k.workspaceSid !== workspaceSid) throw new Error(`Worker ${k.sid} is not in ${workspaceSid}`);
    }
    // One statement per table, the rows passed as arrays; the count triggers fire per row.
    const conflict = 'A worker with one of these names already exists';
    await this.query(
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
    const cols = {
      worker: [] as string[],
      channel: [] as string[],
      capacity: [] as number[],
      available: [] as boolean[],
      at: [] as Date[],
    };
    for (const k of workers) {
      for (const c of taskChannels) {
        const s = channelFor(k, c);
        if (isDefaultChannel(s)) continue;
        cols.worker.push(k.sid);
        cols.channel.push(c.sid);
        cols.capacity.push(s.capacity);
        cols.available.push(s.available);
        cols.at.push(k.now);
      }
    }
    if (cols.worker.length === 0) return;
    await this.query(
      `INSERT INTO worker_channels (worker_sid, task_channel_sid, capacity, available, assigned_tasks, date_updated)
       SELECT worker_sid, task_channel_sid, capacity, available, 0, at
         FROM unnest($1::text[], $2::text[], $3::int[], $4::boolean[], $5::timestamptz[])
           WITH ORDINALITY AS n(worker_sid, task_channel_sid, capacity, available, at, i)
        ORDER BY i`,
      [cols.worker, cols.channel, cols.capacity, cols.available, cols.at],
    );
  }

  async updateWorker(
    sid: string,
    p: WorkerPatch,
    now: Date,
    scope?: WorkerScope,
  ): Promise<UpdatedWorker | null> {
    // Every SET expression reads the row as it was, so date_status_changed compares the old
    // activity; \`old\` reads it as the statement's snapshot has it (the activity before).
    const [r] = await this.query(
      `WITH old AS (SELECT w.activity_sid, w.date_status_changed, a.friendly_name AS activity_name
                      FROM workers w JOIN activities a ON a.sid = w.activity_sid WHERE w.sid = $6),
       k AS (UPDATE workers SET
         friendly_name = COALESCE($1, friendly_name),
         name_key = COALESCE($2, name_key),
         attributes = COALESCE($3, attributes),
         date_status_changed = CASE WHEN $4::text IS NOT NULL AND $4::text <> activity_sid
                                    THEN $5 ELSE date_status_changed END,
         activity_sid = COALESCE($4::text, activity_sid),
         version = version + 1,
         date_updated = $5
       WHERE sid = $6
         AND ($1 <> friendly_name OR $3 <> attributes OR $4::text <> activity_sid)${
           scope
             ? ` AND workspace_sid = $7
               AND EXISTS (SELECT 1 FROM workspaces WHERE sid = $7 AND account_sid = $8)
               AND ($4::text IS NULL
                    OR EXISTS (SELECT 1 FROM activities WHERE sid = $4::text AND workspace_sid = $7))`
             : ''
         } RETURNING *)
       SELECT k.id, k.sid, k.account_sid, k.workspace_sid, k.friendly_name, k.activity_sid, k.attributes,
              k.version, k.date_created, k.date_updated, k.date_status_changed,
              a.friendly_name AS activity_name, a.available AS available,
              old.activity_sid AS prev_activity_sid, old.activity_name AS prev_activity_name,
              old.date_status_changed AS prev_date_status_changed
         FROM k JOIN activities a ON a.sid = k.activity_sid LEFT JOIN old ON true`,
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
    if (!r) return null;
    const worker = toWorker(r);
    return {
      ...worker,
      previous:
        r.prev_activity_sid === null
          ? previousOf(worker)
          : toPreviousActivity({
              activity_sid: r.prev_activity_sid,
              activity_name: r.prev_activity_name,
              date_status_changed: r.prev_date_status_changed,
            }),
    };
  }
}

/** The pool's settings: every timeout that keeps a node from hanging on a database that is gone. */
export function poolConfig(options: PostgresStoreOptions): pg.PoolConfig {
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`PostgreSQL schema name must match ${SCHEMA_NAME.source}, got "${schema}"`);
  }
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  const queryTimeout = options.queryTimeoutMs ?? 15_000;
  const idleInTransaction = options.idleInTransactionTimeoutMs ?? 30_000;
  return {
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: options.keepAliveDelayMs ?? 10_000,
    application_name: 'roster',
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout } : {}),
    ...(queryTimeout > 0 ? { query_timeout: queryTimeout } : {}),
    ...(idleInTransaction > 0 ? { idle_in_transaction_session_timeout: idleInTransaction } : {}),
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
    await client.query({
      text: 'SELECT pg_advisory_lock($1, hashtext($2))',
      values: [MIGRATION_LOCK, String(target)],
      query_timeout: NO_QUERY_TIMEOUT,
    } as pg.QueryConfig);
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
          await client.query({ text: sql, query_timeout: NO_QUERY_TIMEOUT } as pg.QueryConfig);
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
  private readonly outbox = new Outbox();

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

  onEvents(listener: CommittedEventsListener): () => void {
    return this.outbox.on(listener);
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
      const committed = tx.takeCommitted();
      for (const effect of committed.effects) effect();
      this.outbox.publish(committed.events);
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
