import { sql, type Compilable, type CompiledQuery, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { QueueActivityCount, TaskCount, WaitingTask } from '../domain/statistics.js';
import type {
  Account,
  Activity,
  ActivityCount,
  TaskChannel,
  TaskQueue,
  TaskStatus,
  Worker,
  WorkerChannel,
  Workflow,
  Workspace,
} from '../domain/types.js';
import type {
  ActivityFilter,
  DeliveryOutcome,
  DomainEvent,
  EventDelivery,
  EventFilter,
  LogPosition,
  PositionedEvent,
  NewDomainEvent,
  NewTimer,
  Timer,
  NewActivity,
  NewTaskChannel,
  NewTaskQueue,
  MemberCandidate,
  QueueExpression,
  TaskQueueFilter,
  TaskQueuePatch,
  NewWorker,
  NewWorkspace,
  Page,
  PageQuery,
  RoutingReads,
  RoutingWrites,
  StoreTx,
  TaskChannelPatch,
  WorkerChannelPatch,
  WorkerChannelSettings,
  WorkerFilter,
  WorkerPatch,
  WorkerScope,
  UpdatedWorker,
  WaitingScope,
  NewWorkflow,
  WorkflowFilter,
  WorkflowPatch,
  Reclaim,
  WorkspaceFilter,
  WorkspacePatch,
} from '../services/ports/store.js';
import { DEFAULT_WORKER_CHANNEL } from '../domain/defaults.js';
import { InvalidParameterError } from '../domain/errors.js';
import { isSid, SidPrefix } from '../domain/sid.js';
import { isDefaultChannel, taskChannelOfWorkerChannel } from '../domain/worker-channels.js';
import {
  deliveriesWithEvents,
  dueDeliveries,
  nextDeliveryDueQuery,
  eventPageQuery,
  eventRow,
  whereEventSid,
  settleQuery,
  toDelivery,
  toEventPage,
  eventLogQuery,
  eventLogHeldBackQuery,
  eventLogHeadQuery,
  eventLogTxQuery,
  toLogPosition,
  dueAssignmentCallbacks,
  nextAssignmentCallbackQuery,
  followingDeliveries,
  releaseDeliveries,
  deleteDeliveries,
  leaseAssignmentCallbacks,
  settleAssignmentCallbacksQuery,
  eventsByIds,
} from './event-queries.js';
import { eventSid } from './event-sids.js';
import {
  afterToken,
  beforeToken,
  checkPageOffset,
  decodePageStart,
  MAX_SCANNED_ROWS,
  scanTooDeep,
  toPage,
} from './paging.js';
import {
  nameKey,
  toActivity,
  toDomainEvent,
  toTaskChannel,
  toTaskQueue,
  toWorker,
  toWorkerChannel,
  toWorkflow,
  toWorkspace,
  type Row,
} from './rows.js';
import {
  firstEventTimeQuery,
  insertRollupsQuery,
  lastQueueEntryQuery,
  spanRowsQuery,
  rolledUntilQuery,
  rollupsQuery,
  ROLLUP_CHUNK,
  setRolledUntilQuery,
  statisticsEventsQuery,
  toLoggedEvent,
  toRollupRow,
  workspaceSidsQuery,
} from './statistics-rollups.js';
import { QUEUE_ENTRY_TYPES } from '../domain/cumulative-statistics.js';
import type { LoggedEvent, RollupRow, StatisticsEventQuery } from '../services/ports/statistics-rollups.js';
import type { Database } from './schema.js';

const STATUS_TOKEN = /^P([SR])([0-9a-z]{1,12})_([0-9a-z]{1,12})$/;

function encodeStatusToken(kind: 'after' | 'before', edge: { at: Date; id: number }): string {
  return `P${kind === 'after' ? 'S' : 'R'}${edge.at.getTime().toString(36)}_${edge.id.toString(36)}`;
}

function decodeStatusToken(token: string): { kind: 'after' | 'before'; at: number; id: number } {
  const m = STATUS_TOKEN.exec(token);
  const at = m ? parseInt(m[2]!, 36) : NaN;
  const id = m ? parseInt(m[3]!, 36) : NaN;
  if (!m || !Number.isSafeInteger(at) || !Number.isSafeInteger(id) || at > 8.64e15) {
    throw new InvalidParameterError('PageToken', `Invalid PageToken: ${token.slice(0, 64)}`);
  }
  return { kind: m[1] === 'S' ? 'after' : 'before', at, id };
}

/**
 * A query of fixed shape, compiled once: each call binds its arguments (strings) where the
 * query takes them, without building or compiling it again. Lookups on hot paths (auth, the
 * workspace of every request) then cost what a hand-written statement costs.
 */
export function compiledOnce(build: (...args: string[]) => Compilable): (...args: string[]) => Compilable {
  const marks = Array.from({ length: build.length }, (_, i) => `\u0000arg${i}\u0000`);
  const compiled = build(...marks).compile();
  const slots = compiled.parameters.map((p) => marks.indexOf(p as string));
  return (...args) => ({
    compile: () => ({
      ...compiled,
      parameters: slots.map((s, i) => (s < 0 ? compiled.parameters[i] : args[s])),
    }),
  });
}

/** Worker ids read at a time from each activity when paging several activities together. */
const MERGE_CHUNK = 128;

/** Events per INSERT in bulk appends: 8 parameters each, well under SQLite's 32,766. */
const EVENT_CHUNK = 1_000;
/** Rows read per statement while a list tests each row in JavaScript. */
const SCAN_CHUNK = 500;
/** Membership rows per INSERT: 2 parameters each. */
const MEMBER_CHUNK = 5_000;

/** A worker's row as `toWorker` reads it. */
const WORKER_COLUMNS = [
  'k.id',
  'k.sid',
  'k.account_sid',
  'k.workspace_sid',
  'k.friendly_name',
  'k.activity_sid',
  'k.attributes',
  'k.version',
  'k.date_created',
  'k.date_updated',
  'k.date_status_changed',
  'a.friendly_name as activity_name',
  'a.available as available',
] as const;

/** The full-row SELECTs, built once per dialect; their compiled text is also what hot paths prepare. */
export function rowQueries(db: Kysely<Database>) {
  return {
    workspace: db
      .selectFrom('workspaces as w')
      .select([
        'w.id',
        'w.sid',
        'w.account_sid',
        'w.friendly_name',
        'w.event_callback_url',
        'w.events_filter',
        'w.multi_task_enabled',
        'w.prioritize_queue_order',
        'w.default_activity_sid',
        'w.timeout_activity_sid',
        'w.date_created',
        'w.date_updated',
      ])
      .select((eb) => [
        eb
          .selectFrom('activities')
          .select('friendly_name')
          .whereRef('sid', '=', 'w.default_activity_sid')
          .as('default_activity_name'),
        eb
          .selectFrom('activities')
          .select('friendly_name')
          .whereRef('sid', '=', 'w.timeout_activity_sid')
          .as('timeout_activity_name'),
      ]),
    worker: db
      .selectFrom('workers as k')
      .innerJoin('activities as a', 'a.sid', 'k.activity_sid')
      .select(WORKER_COLUMNS),
    /** A queue's members (by its row id, `m.queue_id`), walked along the membership key. */
    queueMember: db
      .selectFrom('task_queue_members as m')
      .innerJoin('workers as k', 'k.id', 'm.worker_id')
      .innerJoin('activities as a', 'a.sid', 'k.activity_sid')
      .select(WORKER_COLUMNS),
    taskQueue: db
      .selectFrom('task_queues as q')
      .select([
        'q.id',
        'q.sid',
        'q.account_sid',
        'q.workspace_sid',
        'q.friendly_name',
        'q.target_workers',
        'q.max_reserved_workers',
        'q.task_order',
        'q.reservation_activity_sid',
        'q.assignment_activity_sid',
        'q.date_created',
        'q.date_updated',
      ])
      .select((eb) => [
        eb
          .selectFrom('activities')
          .select('friendly_name')
          .whereRef('sid', '=', 'q.reservation_activity_sid')
          .as('reservation_activity_name'),
        eb
          .selectFrom('activities')
          .select('friendly_name')
          .whereRef('sid', '=', 'q.assignment_activity_sid')
          .as('assignment_activity_name'),
      ]),
    /**
     * A worker's channel for each task channel of its workspace: the stored deviation if there
     * is one, else nulls (rows.ts fills in the defaults). Pages by the task channel's id.
     */
    workerChannel: db
      .selectFrom('workers as k')
      .innerJoin('task_channels as t', 't.workspace_sid', 'k.workspace_sid')
      .leftJoin('worker_channels as c', (join) =>
        join.onRef('c.worker_sid', '=', 'k.sid').onRef('c.task_channel_sid', '=', 't.sid'),
      )
      .select([
        't.id',
        'k.sid as worker_sid',
        'k.account_sid',
        'k.workspace_sid',
        't.sid as task_channel_sid',
        't.unique_name',
        'c.capacity',
        'c.available',
        'c.assigned_tasks',
        'k.date_created as worker_created',
        't.date_created as channel_created',
        'c.date_updated',
      ]),
  };
}

function lookups(db: Kysely<Database>, select: ReturnType<typeof rowQueries>) {
  return {
    account: compiledOnce((sid) =>
      db.selectFrom('accounts').select(['sid', 'auth_token']).where('sid', '=', sid),
    ),
    workspace: compiledOnce((accountSid, sid) =>
      select.workspace.where('w.sid', '=', sid).where('w.account_sid', '=', accountSid),
    ),
    hasWorkspace: compiledOnce((accountSid, sid) =>
      db
        .selectFrom('workspaces')
        .select(sql<number>`1`.as('one'))
        .where('sid', '=', sid)
        .where('account_sid', '=', accountSid),
    ),
    activity: compiledOnce((workspaceSid, sid) =>
      db
        .selectFrom('activities')
        .selectAll()
        .where('sid', '=', sid)
        .where('workspace_sid', '=', workspaceSid),
    ),
    taskChannel: compiledOnce((workspaceSid, sidOrUniqueName) =>
      db
        .selectFrom('task_channels')
        .selectAll()
        .where('workspace_sid', '=', workspaceSid)
        .where((eb) => eb.or([eb('sid', '=', sidOrUniqueName), eb('unique_name', '=', sidOrUniqueName)]))
        .orderBy(sql`sid = ${sidOrUniqueName}`, 'desc')
        .limit(1),
    ),
    worker: compiledOnce((workspaceSid, sid) =>
      select.worker.where('k.sid', '=', sid).where('k.workspace_sid', '=', workspaceSid),
    ),
    /** The worker read back after an update, as `getWorker` reads it. */
    workerBySid: compiledOnce((sid) => select.worker.where('k.sid', '=', sid)),
    queueExpressions: compiledOnce((workspaceSid) =>
      db
        .selectFrom('task_queues')
        .select(['sid', 'target_workers'])
        .where('workspace_sid', '=', workspaceSid)
        .orderBy('id'),
    ),
    queueExpressionsReadingFields: compiledOnce((workspaceSid) =>
      db
        .selectFrom('task_queues')
        .select(['sid', 'target_workers'])
        .where('workspace_sid', '=', workspaceSid)
        .where('reads_worker_fields', '=', true)
        .orderBy('id'),
    ),
    /** By its task channel's SID (TC…) or unique name; a WC… SID is turned into its TC… SID first. */
    workerChannel: compiledOnce((workerSid, sidOrUniqueName) =>
      select.workerChannel
        .where('k.sid', '=', workerSid)
        .where((eb) => eb.or([eb('t.sid', '=', sidOrUniqueName), eb('t.unique_name', '=', sidOrUniqueName)]))
        .orderBy(sql`t.sid = ${sidOrUniqueName}`, 'desc')
        .limit(1),
    ),
  };
}

/**
 * What every query object of a dialect shares, built and compiled once per builder: a store
 * makes a query object per transaction (PostgreSQL), and compiling these each time would cost
 * more than the queries' round trips.
 */
function prepare(db: Kysely<Database>) {
  const select = rowQueries(db);
  return {
    select,
    lookup: lookups(db, select),
    /** The event INSERT (every append has the same shape): only its parameters change. */
    eventInsert: db
      .insertInto('events')
      .values(
        eventRow({
          type: '',
          accountSid: '',
          workspaceSid: '',
          resourceType: '',
          resourceSid: '',
          actor: '',
          timeMs: 0,
          data: {},
        }),
      )
      .returning('id')
      .compile(),
  };
}

const prepared = new WeakMap<Kysely<Database>, ReturnType<typeof prepare>>();

/**
 * The ordinary reads and writes, written once for both dialects. A store supplies how a
 * compiled query runs (and how driver errors become domain errors), a few dialect hooks
 * (locks, count rows, new SIDs in SQL), and its hand-written hot statements: the statistics
 * counts, the guarded worker update and bulk loading.
 */
export abstract class CrudQueries implements Omit<StoreTx, keyof RoutingReads | keyof RoutingWrites> {
  private effects: Array<() => void> = [];
  private events: NewDomainEvent[] = [];
  protected readonly select: ReturnType<typeof rowQueries>;
  protected readonly lookup: ReturnType<typeof lookups>;
  /** The INSERT of one event row (`eventRow`), compiled once. */
  protected readonly eventInsert: CompiledQuery;

  constructor(protected readonly db: Kysely<Database>) {
    let shared = prepared.get(db);
    if (!shared) prepared.set(db, (shared = prepare(db)));
    ({ select: this.select, lookup: this.lookup, eventInsert: this.eventInsert } = shared);
  }

  /** Runs a query and returns its rows; a unique violation becomes a ConflictError saying `conflict`. */
  protected abstract rows(query: Compilable, conflict?: string): Promise<Row[]>;
  /** Runs a statement that returns no rows. */
  protected abstract run(query: Compilable, conflict?: string): Promise<void>;
  /** Holds workers being inserted and a task channel being added to all of them apart (PostgreSQL). */
  protected abstract lockWorkspace(workspaceSid: string, mode: 'shared' | 'exclusive'): Promise<void>;
  /** Whether due timers and reclaims are claimed with FOR UPDATE SKIP LOCKED (several writers at once). */
  protected abstract readonly skipLockedTimers: boolean;
  /** Drops the count rows of an activity, or of a task channel, before it goes. */
  protected abstract dropCounts(of: { activitySid: string } | { taskChannelSid: string }): Promise<void>;

  // The hot statements, by hand in each dialect.
  abstract activityCounts(workspaceSid: string, taskChannelSid?: string): Promise<ActivityCount[]>;
  abstract updateWorker(
    sid: string,
    patch: WorkerPatch,
    now: Date,
    scope?: WorkerScope,
  ): Promise<UpdatedWorker | null>;
  abstract insertWorkers(
    workspaceSid: string,
    workers: readonly NewWorker[],
    channelFor: (worker: NewWorker, taskChannel: TaskChannel) => WorkerChannelSettings,
  ): Promise<void>;

  private async one(query: Compilable): Promise<Row | undefined> {
    return (await this.rows(query))[0];
  }

  /** Pages a query whose rows carry `id` (the column `idColumn`), in id order. */
  protected async page<DB, TB extends keyof DB, O, T>(
    base: SelectQueryBuilder<DB, TB, O>,
    idColumn: string,
    query: PageQuery,
    map: (r: Row) => T,
  ): Promise<Page<T>> {
    const start = decodePageStart(query);
    const id = sql.ref(idColumn);
    const limited =
      start.kind === 'offset'
        ? base
            .orderBy(id, 'asc')
            .limit(query.pageSize + 1)
            .offset(start.offset)
        : start.kind === 'after'
          ? base
              .where(sql<boolean>`${id} > ${start.key}`)
              .orderBy(id, 'asc')
              .limit(query.pageSize + 1)
          : base
              .where(sql<boolean>`${id} < ${start.key}`)
              .orderBy(id, 'desc')
              .limit(query.pageSize + 1);
    const rows = await this.rows(limited);
    const page = toPage(rows, start, query.pageSize, (r) => Number(r.id));
    return { ...page, items: page.items.map(map) };
  }

  /**
   * Pages the workers of several activities together, in id order: a merge of each activity's
   * walk of its (activity, id) index, reading worker ids only, lazily and in chunks, so that a
   * page costs about the rows it skips and shows (plus a chunk per activity), however many
   * workers the activities hold; then the page's rows by id.
   */
  private async workersOfActivities(
    activitySids: readonly string[],
    query: PageQuery,
  ): Promise<Page<Worker>> {
    const start = decodePageStart(query);
    const desc = start.kind === 'before';
    const skip = start.kind === 'offset' ? start.offset : 0;
    const want = skip + query.pageSize + 1;
    // Each activity holds its share of the page, or more: a chunk of that share reads few extra ids.
    const chunk = Math.min(want, Math.max(MERGE_CHUNK, Math.ceil(want / activitySids.length)));
    const cursors = activitySids.map((sid) => ({
      sid,
      ids: [] as number[],
      at: 0,
      last: start.kind === 'offset' ? undefined : start.key,
      done: false,
    }));
    type Cursor = (typeof cursors)[number];
    /** The cursor's next id, reading its next chunk when it has none left; undefined at its end. */
    const head = async (c: Cursor): Promise<number | undefined> => {
      if (c.at === c.ids.length && !c.done) {
        let q = this.db.selectFrom('workers').select('id').where('activity_sid', '=', c.sid);
        if (c.last !== undefined) q = q.where('id', desc ? '<' : '>', c.last);
        const rows = await this.rows(q.orderBy('id', desc ? 'desc' : 'asc').limit(chunk));
        c.ids = rows.map((r) => Number(r.id));
        c.at = 0;
        c.done = rows.length < chunk;
        if (c.ids.length > 0) c.last = c.ids[c.ids.length - 1];
      }
      return c.at < c.ids.length ? c.ids[c.at] : undefined;
    };
    const picked: number[] = [];
    while (picked.length < want) {
      let best: Cursor | undefined;
      let bestId = 0;
      for (const c of cursors) {
        const id = await head(c);
        if (id !== undefined && (best === undefined || (desc ? id > bestId : id < bestId))) {
          best = c;
          bestId = id;
        }
      }
      if (best === undefined) break;
      best.at++;
      picked.push(bestId);
    }
    const ids = picked.slice(skip);
    if (ids.length === 0) return { items: [], nextPageToken: null, previousPageToken: null };
    // Padded to a power of two (repeating an id), so that few distinct statements are prepared.
    const padded = ids.concat(
      Array<number>(2 ** Math.ceil(Math.log2(ids.length)) - ids.length).fill(ids[0]!),
    );
    const rows = await this.rows(
      this.select.worker.where('k.id', 'in', padded).orderBy('k.id', desc ? 'desc' : 'asc'),
    );
    const page = toPage(rows, start, query.pageSize, (r) => Number(r.id));
    return { ...page, items: page.items.map(toWorker) };
  }

  /**
   * As `page`, keeping only rows that pass `matches`: reads the query's rows in id order (or
   * backwards, for a previous page) a chunk at a time until the page is full, none are left, or
   * MAX_SCANNED_ROWS have been read (then the page is cut short and goes on after the last read).
   */
  protected async scanPage<DB, TB extends keyof DB, O, T>(
    base: SelectQueryBuilder<DB, TB, O>,
    idColumn: string,
    query: PageQuery,
    map: (r: Row) => T,
    matches: (item: T) => boolean,
  ): Promise<Page<T>> {
    const start = decodePageStart(query);
    const id = sql.ref(idColumn);
    const backwards = start.kind === 'before';
    let skip = start.kind === 'offset' ? start.offset : 0;
    let key = start.kind === 'offset' ? null : start.key;
    const kept: { id: number; item: T }[] = [];
    let scanned = 0;
    while (kept.length <= query.pageSize) {
      if (scanned >= MAX_SCANNED_ROWS && key !== null) {
        if (skip > 0) throw scanTooDeep(query);
        const page = toPage(kept, start, query.pageSize, (k) => k.id);
        const goOn = backwards ? { previousPageToken: beforeToken(key) } : { nextPageToken: afterToken(key) };
        return { ...page, ...goOn, items: page.items.map((k) => k.item) };
      }
      const bounded =
        key === null ? base : base.where(sql<boolean>`${id} ${sql.raw(backwards ? '<' : '>')} ${key}`);
      const rows = await this.rows(bounded.orderBy(id, backwards ? 'desc' : 'asc').limit(SCAN_CHUNK));
      scanned += rows.length;
      for (const r of rows) {
        const item = map(r);
        if (!matches(item)) continue;
        if (skip > 0) skip--;
        else if (kept.length <= query.pageSize) kept.push({ id: Number(r.id), item });
      }
      if (rows.length < SCAN_CHUNK) break;
      key = Number(rows[rows.length - 1]!.id);
    }
    const page = toPage(kept, start, query.pageSize, (k) => k.id);
    return { ...page, items: page.items.map((k) => k.item) };
  }

  /**
   * Workers in order of date_status_changed (then id), keyset-paged by both: the page token
   * carries the edge row's time and id (`PS` after it, `PR` before it, in list order).
   */
  private async statusChangePage(
    base: ReturnType<typeof rowQueries>['worker'],
    direction: 'asc' | 'desc',
    query: PageQuery,
    matches: ((w: Worker) => boolean) | undefined,
  ): Promise<Page<Worker>> {
    const token = query.pageToken ? decodeStatusToken(query.pageToken) : undefined;
    const backwards = token?.kind === 'before';
    // Reading backwards through the list is reading the other way round.
    const sqlDirection = (direction === 'asc') !== backwards ? 'asc' : 'desc';
    const comparison = sql.raw(sqlDirection === 'asc' ? '>' : '<');
    let skip = token ? 0 : checkPageOffset(query);
    let edge = token ? { at: new Date(token.at), id: token.id } : null;
    const chunk = matches ? SCAN_CHUNK : query.pageSize + 1 + skip;
    const kept: Worker[] = [];
    const edges = new Map<Worker, { at: Date; id: number }>();
    let scanned = 0;
    /** Set when the page is cut short by MAX_SCANNED_ROWS: where the next read goes on. */
    let goOn: { at: Date; id: number } | undefined;
    while (kept.length <= query.pageSize) {
      if (scanned >= MAX_SCANNED_ROWS && edge !== null) {
        if (skip > 0) throw scanTooDeep(query);
        goOn = edge;
        break;
      }
      const bounded =
        edge === null
          ? base
          : base.where(sql<boolean>`(k.date_status_changed, k.id) ${comparison} (${edge.at}, ${edge.id})`);
      const rows = await this.rows(
        bounded.orderBy('k.date_status_changed', sqlDirection).orderBy('k.id', sqlDirection).limit(chunk),
      );
      scanned += rows.length;
      for (const r of rows) {
        const worker = toWorker(r);
        if (matches && !matches(worker)) continue;
        if (skip > 0) skip--;
        else if (kept.length <= query.pageSize) {
          kept.push(worker);
          edges.set(worker, { at: worker.dateStatusChanged, id: Number(r.id) });
        }
      }
      if (rows.length < chunk) break;
      const last = rows[rows.length - 1]!;
      edge = { at: toWorker(last).dateStatusChanged, id: Number(last.id) };
    }
    const hasMore = kept.length > query.pageSize;
    const items = kept.slice(0, query.pageSize);
    if (backwards) items.reverse();
    const first = items[0];
    const last = items[items.length - 1];
    const atStart = token === undefined ? query.page === 0 : backwards && !hasMore;
    const atEnd = backwards ? false : !hasMore;
    const page = {
      items,
      nextPageToken: last && !atEnd ? encodeStatusToken('after', edges.get(last)!) : null,
      previousPageToken: first && !atStart ? encodeStatusToken('before', edges.get(first)!) : null,
    };
    if (goOn === undefined) return page;
    return backwards
      ? { ...page, previousPageToken: encodeStatusToken('before', goOn) }
      : { ...page, nextPageToken: encodeStatusToken('after', goOn) };
  }

  // ---- accounts

  async getAccount(sid: string): Promise<Account | null> {
    const r = await this.one(this.lookup.account(sid));
    return r ? { sid: r.sid as string, authToken: r.auth_token as string } : null;
  }

  async upsertAccount(account: Account, now: Date): Promise<void> {
    await this.run(
      this.db
        .insertInto('accounts')
        .values({ sid: account.sid, auth_token: account.authToken, date_created: now, date_updated: now })
        .onConflict((oc) =>
          oc
            .column('sid')
            .doUpdateSet((eb) => ({
              auth_token: eb.ref('excluded.auth_token'),
              date_updated: eb.ref('excluded.date_updated'),
            }))
            .where('accounts.auth_token', '<>', (eb) => eb.ref('excluded.auth_token')),
        ),
    );
  }

  // ---- workspaces

  async getWorkspace(accountSid: string, sid: string): Promise<Workspace | null> {
    const r = await this.one(this.lookup.workspace(accountSid, sid));
    return r ? toWorkspace(r) : null;
  }

  async hasWorkspace(accountSid: string, sid: string): Promise<boolean> {
    return (await this.one(this.lookup.hasWorkspace(accountSid, sid))) !== undefined;
  }

  listWorkspaces(accountSid: string, filter: WorkspaceFilter, query: PageQuery): Promise<Page<Workspace>> {
    let q = this.select.workspace.where('w.account_sid', '=', accountSid);
    if (filter.friendlyName !== undefined) q = q.where('w.friendly_name', '=', filter.friendlyName);
    return this.page(q, 'w.id', query, toWorkspace);
  }

  async insertWorkspace(w: NewWorkspace): Promise<void> {
    await this.run(
      this.db.insertInto('workspaces').values({
        sid: w.sid,
        account_sid: w.accountSid,
        friendly_name: w.friendlyName,
        event_callback_url: w.eventCallbackUrl,
        events_filter: w.eventsFilter,
        multi_task_enabled: w.multiTaskEnabled,
        prioritize_queue_order: w.prioritizeQueueOrder,
        default_activity_sid: w.defaultActivitySid,
        timeout_activity_sid: w.timeoutActivitySid,
        date_created: w.now,
        date_updated: w.now,
      }),
    );
  }

  async updateWorkspace(sid: string, p: WorkspacePatch, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('workspaces')
        .set({
          friendly_name: p.friendlyName,
          event_callback_url: p.eventCallbackUrl,
          events_filter: p.eventsFilter,
          multi_task_enabled: p.multiTaskEnabled,
          prioritize_queue_order: p.prioritizeQueueOrder,
          default_activity_sid: p.defaultActivitySid,
          timeout_activity_sid: p.timeoutActivitySid,
          date_updated: now,
        })
        .where('sid', '=', sid),
    );
  }

  /**
   * Gone at once: the workspace's row goes (every request about it or anything in it is a 404
   * from then on) and so do its timers; the rest is left for the reclaimer.
   */
  async deleteWorkspace(sid: string): Promise<void> {
    await this.run(this.db.deleteFrom('timers').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('workspaces').where('sid', '=', sid));
    await this.run(this.db.insertInto('reclaims').values({ kind: 'workspace', sid }));
  }

  // ---- activities

  async getActivity(workspaceSid: string, sid: string): Promise<Activity | null> {
    const r = await this.one(this.lookup.activity(workspaceSid, sid));
    return r ? toActivity(r) : null;
  }

  listActivities(workspaceSid: string, filter: ActivityFilter, query: PageQuery): Promise<Page<Activity>> {
    let q = this.db.selectFrom('activities as a').selectAll('a').where('a.workspace_sid', '=', workspaceSid);
    if (filter.friendlyName !== undefined) q = q.where('a.name_key', '=', nameKey(filter.friendlyName));
    if (filter.available !== undefined) q = q.where('a.available', '=', filter.available);
    return this.page(q, 'a.id', query, toActivity);
  }

  async insertActivity(a: NewActivity): Promise<void> {
    await this.run(
      this.db.insertInto('activities').values({
        sid: a.sid,
        account_sid: a.accountSid,
        workspace_sid: a.workspaceSid,
        friendly_name: a.friendlyName,
        name_key: nameKey(a.friendlyName),
        available: a.available,
        date_created: a.now,
        date_updated: a.now,
      }),
      `An activity named ${a.friendlyName} already exists in this workspace`,
    );
  }

  async updateActivity(sid: string, friendlyName: string, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('activities')
        .set({ friendly_name: friendlyName, name_key: nameKey(friendlyName), date_updated: now })
        .where('sid', '=', sid),
      `An activity named ${friendlyName} already exists in this workspace`,
    );
  }

  async deleteActivity(sid: string): Promise<void> {
    await this.dropCounts({ activitySid: sid });
    // On PostgreSQL a worker moved in by a concurrent write makes the foreign key refuse (ConflictError).
    await this.run(this.db.deleteFrom('activities').where('sid', '=', sid));
  }

  // ---- task channels

  async getTaskChannel(workspaceSid: string, sidOrUniqueName: string): Promise<TaskChannel | null> {
    const r = await this.one(this.lookup.taskChannel(workspaceSid, sidOrUniqueName));
    return r ? toTaskChannel(r) : null;
  }

  listTaskChannels(workspaceSid: string, query: PageQuery): Promise<Page<TaskChannel>> {
    const q = this.db
      .selectFrom('task_channels as t')
      .selectAll('t')
      .where('t.workspace_sid', '=', workspaceSid);
    return this.page(q, 't.id', query, toTaskChannel);
  }

  /** O(1): the workers' channels for it have the defaults, which need no rows. */
  async insertTaskChannel(c: NewTaskChannel): Promise<void> {
    await this.run(
      this.db.insertInto('task_channels').values({
        sid: c.sid,
        account_sid: c.accountSid,
        workspace_sid: c.workspaceSid,
        unique_name: c.uniqueName,
        friendly_name: c.friendlyName,
        channel_optimized_routing: c.channelOptimizedRouting,
        date_created: c.now,
        date_updated: c.now,
      }),
      `A task channel with unique name ${c.uniqueName} already exists in this workspace`,
    );
  }

  async updateTaskChannel(sid: string, p: TaskChannelPatch, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('task_channels')
        .set({
          friendly_name: p.friendlyName,
          channel_optimized_routing: p.channelOptimizedRouting,
          date_updated: now,
        })
        .where('sid', '=', sid),
    );
  }

  /**
   * Gone at once (with its counts); its workers' channel rows are left for the reclaimer,
   * invisible meanwhile (every read of worker channels goes through the task channel's row).
   */
  async deleteTaskChannel(sid: string): Promise<void> {
    await this.dropCounts({ taskChannelSid: sid });
    await this.run(this.db.deleteFrom('task_channels').where('sid', '=', sid));
    await this.run(this.db.insertInto('reclaims').values({ kind: 'task_channel', sid }));
  }

  // ---- workers

  async getWorker(workspaceSid: string, sid: string): Promise<Worker | null> {
    const r = await this.one(this.lookup.worker(workspaceSid, sid));
    return r ? toWorker(r) : null;
  }

  /**
   * Every filter walks an index, so that a filter matching nothing, or little, costs an index
   * look-up rather than a scan of the workspace's workers: a friendly name finds at most one
   * worker by name; activity filters are resolved to the activities they mean first, and
   * their workers are walked per activity (by activity and id).
   */
  async listWorkers(workspaceSid: string, filter: WorkerFilter, query: PageQuery): Promise<Page<Worker>> {
    if (
      filter.taskQueueSid !== undefined ||
      filter.taskQueueName !== undefined ||
      filter.matches !== undefined ||
      filter.statusChangeOrder !== undefined
    ) {
      return this.listWorkersOfQueuesOrExpression(workspaceSid, filter, query);
    }
    const none = (): Page<Worker> => {
      decodePageStart(query); // a malformed PageToken is still refused
      return { items: [], nextPageToken: null, previousPageToken: null };
    };
    if (filter.friendlyName !== undefined) {
      // Names are unique per workspace: find the one worker by name, then page it by its id.
      const [named] = await this.rows(
        this.db
          .selectFrom('workers')
          .select('id')
          .where('workspace_sid', '=', workspaceSid)
          .where('name_key', '=', nameKey(filter.friendlyName)),
      );
      if (!named) return none();
      let one = this.select.worker.where('k.id', '=', Number(named.id));
      if (filter.activitySid !== undefined) one = one.where('k.activity_sid', '=', filter.activitySid);
      if (filter.activityName !== undefined) one = one.where('a.name_key', '=', nameKey(filter.activityName));
      if (filter.available !== undefined) one = one.where('a.available', '=', filter.available);
      return this.page(one, 'k.id', query, toWorker);
    }
    if (
      filter.activitySid === undefined &&
      filter.activityName === undefined &&
      filter.available === undefined
    ) {
      return this.page(
        this.select.worker.where('k.workspace_sid', '=', workspaceSid),
        'k.id',
        query,
        toWorker,
      );
    }
    let activities = this.db.selectFrom('activities').select('sid').where('workspace_sid', '=', workspaceSid);
    if (filter.activitySid !== undefined) activities = activities.where('sid', '=', filter.activitySid);
    if (filter.activityName !== undefined) {
      activities = activities.where('name_key', '=', nameKey(filter.activityName));
    }
    if (filter.available !== undefined) activities = activities.where('available', '=', filter.available);
    const sids = (await this.rows(activities.orderBy('id'))).map((r) => r.sid as string);
    if (sids.length === 0) return none();
    if (sids.length > 1) return this.workersOfActivities(sids, query);
    // By activity alone (it is the workspace's): so the only index that serves is (activity, id).
    return this.page(this.select.worker.where('k.activity_sid', '=', sids[0]!), 'k.id', query, toWorker);
  }

  /**
   * The filters that need a queue, an expression or another order, with the others beside them.
   * A queue's members are walked along the membership key (queue, worker id), joined to their
   * workers: a page costs the members it skips and shows, never the whole queue or workspace.
   * Ordered by status change, the workspace's (date_status_changed, id) index is walked and each
   * worker is looked up in the membership key.
   */
  private async listWorkersOfQueuesOrExpression(
    workspaceSid: string,
    filter: WorkerFilter,
    query: PageQuery,
  ): Promise<Page<Worker>> {
    const { taskQueueSid, taskQueueName, matches, statusChangeOrder } = filter;
    let queueId: number | undefined;
    if (taskQueueSid !== undefined || taskQueueName !== undefined) {
      let queue = this.db.selectFrom('task_queues').select('id').where('workspace_sid', '=', workspaceSid);
      if (taskQueueSid !== undefined) queue = queue.where('sid', '=', taskQueueSid);
      if (taskQueueName !== undefined) queue = queue.where('name_key', '=', nameKey(taskQueueName));
      const [found] = await this.rows(queue);
      if (!found) {
        // A malformed PageToken is still refused, as the list would refuse it.
        if (statusChangeOrder !== undefined) {
          if (query.pageToken) decodeStatusToken(query.pageToken);
          else checkPageOffset(query);
        } else decodePageStart(query);
        return { items: [], nextPageToken: null, previousPageToken: null };
      }
      queueId = Number(found.id);
    }
    const narrow = <DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>) => {
      const is = (column: string, value: unknown) => sql<boolean>`${sql.ref(column)} = ${value}`;
      let n = q;
      if (filter.activitySid !== undefined) n = n.where(is('k.activity_sid', filter.activitySid));
      if (filter.activityName !== undefined) n = n.where(is('a.name_key', nameKey(filter.activityName)));
      if (filter.available !== undefined) n = n.where(is('a.available', filter.available));
      if (filter.friendlyName !== undefined) n = n.where(is('k.name_key', nameKey(filter.friendlyName)));
      return n;
    };
    if (queueId !== undefined && statusChangeOrder === undefined) {
      const members = narrow(this.select.queueMember.where('m.queue_id', '=', queueId));
      if (matches) return this.scanPage(members, 'm.worker_id', query, toWorker, matches);
      return this.page(members, 'm.worker_id', query, toWorker);
    }
    let q = narrow(this.select.worker.where('k.workspace_sid', '=', workspaceSid));
    if (queueId !== undefined) {
      const id = queueId;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('task_queue_members as m')
            .select('m.worker_id')
            .where('m.queue_id', '=', id)
            .whereRef('m.worker_id', '=', 'k.id'),
        ),
      );
    }
    if (statusChangeOrder) return this.statusChangePage(q, statusChangeOrder, query, matches);
    if (matches) return this.scanPage(q, 'k.id', query, toWorker, matches);
    return this.page(q, 'k.id', query, toWorker);
  }

  async insertWorker(k: NewWorker, wc: WorkerChannelSettings): Promise<void> {
    await this.lockWorkspace(k.workspaceSid, 'shared');
    await this.run(
      this.db.insertInto('workers').values({
        sid: k.sid,
        account_sid: k.accountSid,
        workspace_sid: k.workspaceSid,
        friendly_name: k.friendlyName,
        name_key: nameKey(k.friendlyName),
        activity_sid: k.activitySid,
        attributes: k.attributes,
        version: 0,
        date_created: k.now,
        date_updated: k.now,
        date_status_changed: k.now,
      }),
      `A worker named ${k.friendlyName} already exists in this workspace`,
    );
    if (isDefaultChannel(wc)) return;
    await this.run(
      this.db
        .insertInto('worker_channels')
        .columns([
          'worker_sid',
          'task_channel_sid',
          'capacity',
          'available',
          'assigned_tasks',
          'date_updated',
        ])
        .expression((eb) =>
          eb
            .selectFrom('task_channels')
            .select([
              eb.val(k.sid).as('worker_sid'),
              'sid as task_channel_sid',
              eb.val(wc.capacity).as('capacity'),
              eb.val(wc.available).as('available'),
              eb.val(0).as('assigned_tasks'),
              eb.val(k.now).as('date_updated'),
            ])
            .where('workspace_sid', '=', k.workspaceSid)
            .orderBy('id'),
        ),
    );
  }

  async deleteWorker(sid: string): Promise<void> {
    await this.run(
      this.db
        .deleteFrom('task_queue_members')
        .where('worker_id', '=', (eb) => eb.selectFrom('workers').select('id').where('sid', '=', sid)),
    );
    await this.run(this.db.deleteFrom('workers').where('sid', '=', sid));
  }

  /** The workspace's task channels in creation order: what bulk loading gives each worker a channel for. */
  protected async taskChannelsOf(workspaceSid: string): Promise<TaskChannel[]> {
    const q = this.db
      .selectFrom('task_channels')
      .selectAll()
      .where('workspace_sid', '=', workspaceSid)
      .orderBy('id');
    return (await this.rows(q)).map(toTaskChannel);
  }

  // ---- worker channels

  async getWorkerChannel(workerSid: string, sidOrUniqueName: string): Promise<WorkerChannel | null> {
    const taskChannel = isSid(sidOrUniqueName, SidPrefix.workerChannel)
      ? taskChannelOfWorkerChannel(workerSid, sidOrUniqueName)
      : sidOrUniqueName;
    if (taskChannel === null) return null;
    const r = await this.one(this.lookup.workerChannel(workerSid, taskChannel));
    return r ? toWorkerChannel(r) : null;
  }

  listWorkerChannels(workerSid: string, query: PageQuery): Promise<Page<WorkerChannel>> {
    return this.page(
      this.select.workerChannel.where('k.sid', '=', workerSid),
      't.id',
      query,
      toWorkerChannel,
    );
  }

  async updateWorkerChannel(
    channel: { workerSid: string; taskChannelSid: string },
    p: WorkerChannelPatch,
    now: Date,
  ): Promise<void> {
    // A channel without a row has the defaults: the first change stores it. A row stays once
    // written (its date_updated is part of the resource), even if it returns to the defaults.
    await this.run(
      this.db
        .insertInto('worker_channels')
        .values({
          worker_sid: channel.workerSid,
          task_channel_sid: channel.taskChannelSid,
          capacity: p.capacity ?? DEFAULT_WORKER_CHANNEL.capacity,
          available: p.available ?? DEFAULT_WORKER_CHANNEL.available,
          assigned_tasks: 0,
          date_updated: now,
        })
        .onConflict((oc) =>
          oc
            .columns(['worker_sid', 'task_channel_sid'])
            .doUpdateSet({ capacity: p.capacity, available: p.available, date_updated: now }),
        ),
    );
  }

  // ---- task queues and their members

  async getTaskQueue(workspaceSid: string, sid: string): Promise<TaskQueue | null> {
    const r = await this.one(
      this.select.taskQueue.where('q.sid', '=', sid).where('q.workspace_sid', '=', workspaceSid),
    );
    return r ? toTaskQueue(r) : null;
  }

  listTaskQueues(workspaceSid: string, filter: TaskQueueFilter, query: PageQuery): Promise<Page<TaskQueue>> {
    let q = this.select.taskQueue.where('q.workspace_sid', '=', workspaceSid);
    if (filter.friendlyName !== undefined) q = q.where('q.name_key', '=', nameKey(filter.friendlyName));
    const { workerSid, sids } = filter;
    if (workerSid !== undefined) {
      q = q.where('q.id', 'in', (eb) =>
        eb
          .selectFrom('task_queue_members as m')
          .innerJoin('workers as k', 'k.id', 'm.worker_id')
          .select('m.queue_id')
          .where('k.sid', '=', workerSid),
      );
    }
    const { activitySid } = filter;
    if (activitySid !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb('q.reservation_activity_sid', '=', activitySid),
          eb('q.assignment_activity_sid', '=', activitySid),
        ]),
      );
    }
    if (sids !== undefined)
      q = sids.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('q.sid', 'in', sids);
    const { order } = filter;
    if (!order || (order.by === 'dateCreated' && order.direction === 'asc')) {
      return this.page(q, 'q.id', query, toTaskQueue);
    }
    const column = order.by === 'dateUpdated' ? 'q.date_updated' : undefined;
    return this.orderedPage(q, { column, idColumn: 'q.id', direction: order.direction }, query, (r) => {
      const queue = toTaskQueue(r);
      return { item: queue, edge: { at: queue.dateUpdated, id: Number(r.id) } };
    });
  }

  /**
   * Pages a query in the order of `column` then `idColumn` (or `idColumn` alone), either way,
   * by keyset: the page token carries the edge row's column value (a date) and id, as the
   * status-change order's tokens do (`PS` after it, `PR` before it, in list order); with no
   * column it carries the id alone (`PA`, `PB`). Tokens are valid only with the same order.
   */
  private async orderedPage<DB, TB extends keyof DB, O, T>(
    base: SelectQueryBuilder<DB, TB, O>,
    order: { column: string | undefined; idColumn: string; direction: 'asc' | 'desc' },
    query: PageQuery,
    map: (r: Row) => { item: T; edge: { at: Date; id: number } },
  ): Promise<Page<T>> {
    const { column, idColumn, direction } = order;
    type Edge = { kind: 'after' | 'before'; at: number; id: number };
    let token: Edge | undefined;
    let skip = 0;
    if (!query.pageToken) skip = checkPageOffset(query);
    else if (column) token = decodeStatusToken(query.pageToken);
    else {
      const start = decodePageStart(query);
      if (start.kind !== 'offset') token = { kind: start.kind, at: 0, id: start.key };
    }
    const backwards = token?.kind === 'before';
    // Reading backwards through the list is reading the other way round.
    const sqlDirection = (direction === 'asc') !== backwards ? 'asc' : 'desc';
    const comparison = sql.raw(sqlDirection === 'asc' ? '>' : '<');
    const id = sql.ref(idColumn);
    let q = base;
    if (token && column) {
      q = q.where(
        sql<boolean>`(${sql.ref(column)}, ${id}) ${comparison} (${new Date(token.at)}, ${token.id})`,
      );
    } else if (token) q = q.where(sql<boolean>`${id} ${comparison} ${token.id}`);
    if (column) q = q.orderBy(sql.ref(column), sqlDirection);
    q = q.orderBy(id, sqlDirection).limit(query.pageSize + 1);
    if (skip > 0) q = q.offset(skip);
    const rows = (await this.rows(q)).map(map);
    const hasMore = rows.length > query.pageSize;
    const kept = rows.slice(0, query.pageSize);
    if (backwards) kept.reverse();
    const first = kept[0];
    const last = kept[kept.length - 1];
    const atStart = token === undefined ? query.page === 0 : backwards && !hasMore;
    const atEnd = backwards ? false : !hasMore;
    const encode = (kind: 'after' | 'before', edge: { at: Date; id: number }) =>
      column ? encodeStatusToken(kind, edge) : kind === 'after' ? afterToken(edge.id) : beforeToken(edge.id);
    return {
      items: kept.map((r) => r.item),
      nextPageToken: last && !atEnd ? encode('after', last.edge) : null,
      previousPageToken: first && !atStart ? encode('before', first.edge) : null,
    };
  }

  async queueExpressions(workspaceSid: string, onlyReadingWorkerFields: boolean): Promise<QueueExpression[]> {
    // Compiled once: every worker update asks (usually to find no queue).
    const rows = await this.rows(
      onlyReadingWorkerFields
        ? this.lookup.queueExpressionsReadingFields(workspaceSid)
        : this.lookup.queueExpressions(workspaceSid),
    );
    return rows.map((r) => ({ sid: r.sid as string, targetWorkers: r.target_workers as string }));
  }

  async memberCandidates(
    workspaceSid: string,
    afterId: number,
    limit: number,
    activitySid?: string,
  ): Promise<MemberCandidate[]> {
    let q = this.db
      .selectFrom('workers as k')
      .innerJoin('activities as a', 'a.sid', 'k.activity_sid')
      .select([
        'k.id',
        'k.sid',
        'k.friendly_name',
        'k.activity_sid',
        'k.attributes',
        'a.friendly_name as activity_name',
      ])
      .where('k.workspace_sid', '=', workspaceSid)
      .where('k.id', '>', afterId);
    if (activitySid !== undefined) q = q.where('k.activity_sid', '=', activitySid);
    const rows = await this.rows(q.orderBy('k.id').limit(limit));
    return rows.map((r) => ({
      id: Number(r.id),
      sid: r.sid as string,
      friendlyName: r.friendly_name as string,
      activitySid: r.activity_sid as string,
      activityName: r.activity_name as string,
      attributes: r.attributes as string,
    }));
  }

  async queuesOfWorker(workerSid: string): Promise<string[]> {
    const rows = await this.rows(
      this.db
        .selectFrom('task_queue_members as m')
        .innerJoin('workers as k', 'k.id', 'm.worker_id')
        .innerJoin('task_queues as q', 'q.id', 'm.queue_id')
        .select('q.sid as queue_sid')
        .where('k.sid', '=', workerSid),
    );
    return rows.map((r) => r.queue_sid as string);
  }

  async insertTaskQueue(t: NewTaskQueue): Promise<void> {
    await this.run(
      this.db.insertInto('task_queues').values({
        sid: t.sid,
        account_sid: t.accountSid,
        workspace_sid: t.workspaceSid,
        friendly_name: t.friendlyName,
        name_key: nameKey(t.friendlyName),
        target_workers: t.targetWorkers,
        reads_worker_fields: t.readsWorkerFields,
        max_reserved_workers: t.maxReservedWorkers,
        task_order: t.taskOrder,
        reservation_activity_sid: t.reservationActivitySid,
        assignment_activity_sid: t.assignmentActivitySid,
        date_created: t.now,
        date_updated: t.now,
      }),
      `A TaskQueue named ${t.friendlyName} already exists in this workspace`,
    );
  }

  async updateTaskQueue(sid: string, p: TaskQueuePatch, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('task_queues')
        .set({
          friendly_name: p.friendlyName,
          name_key: p.friendlyName === undefined ? undefined : nameKey(p.friendlyName),
          target_workers: p.targetWorkers,
          reads_worker_fields: p.readsWorkerFields,
          max_reserved_workers: p.maxReservedWorkers,
          task_order: p.taskOrder,
          reservation_activity_sid: p.reservationActivitySid,
          assignment_activity_sid: p.assignmentActivitySid,
          date_updated: now,
        })
        .where('sid', '=', sid),
      `A TaskQueue named ${p.friendlyName} already exists in this workspace`,
    );
  }

  async deleteTaskQueue(sid: string): Promise<void> {
    await this.clearQueueMembers(sid);
    await this.run(this.db.deleteFrom('task_queues').where('sid', '=', sid));
  }

  async holdWorkspace(workspaceSid: string, mode: 'shared' | 'exclusive'): Promise<void> {
    await this.lockWorkspace(workspaceSid, mode);
  }

  async clearQueueMembers(
    queueSid: string,
    range?: { afterId: number; throughId: number | null } | { workerIds: readonly number[] },
  ): Promise<void> {
    let members = this.db
      .deleteFrom('task_queue_members')
      .where('queue_id', '=', (eb) => eb.selectFrom('task_queues').select('id').where('sid', '=', queueSid));
    if (range && 'workerIds' in range) {
      if (range.workerIds.length === 0) return;
      members = members.where('worker_id', 'in', range.workerIds);
    } else if (range) {
      members = members.where('worker_id', '>', range.afterId);
      if (range.throughId !== null) members = members.where('worker_id', '<=', range.throughId);
    }
    await this.run(members);
  }

  async addQueueMembers(
    workspaceSid: string,
    queueSid: string,
    workers: readonly MemberCandidate[],
  ): Promise<void> {
    if (workers.length === 0) return;
    const [queue] = await this.rows(
      this.db
        .selectFrom('task_queues')
        .select('id')
        .where('sid', '=', queueSid)
        .where('workspace_sid', '=', workspaceSid),
    );
    if (!queue) return;
    const queueId = Number(queue.id);
    for (let i = 0; i < workers.length; i += MEMBER_CHUNK) {
      const chunk = workers.slice(i, i + MEMBER_CHUNK);
      await this.run(
        this.db
          .insertInto('task_queue_members')
          .values(chunk.map((k) => ({ queue_id: queueId, worker_id: k.id }))),
      );
    }
  }

  async setWorkerMembership(
    workspaceSid: string,
    workerSid: string,
    evaluated: readonly string[],
    members: readonly string[],
  ): Promise<void> {
    if (evaluated.length === 0) return;
    await this.run(
      this.db
        .deleteFrom('task_queue_members')
        .where('worker_id', '=', (eb) => eb.selectFrom('workers').select('id').where('sid', '=', workerSid))
        .where('queue_id', 'in', (eb) =>
          eb
            .selectFrom('task_queues')
            .select('id')
            .where('workspace_sid', '=', workspaceSid)
            .where('sid', 'in', evaluated),
        ),
    );
    if (members.length === 0) return;
    await this.run(
      this.db
        .insertInto('task_queue_members')
        .columns(['queue_id', 'worker_id'])
        .expression((eb) =>
          eb
            .selectFrom('task_queues as q')
            .innerJoin('workers as k', (join) => join.on('k.sid', '=', workerSid))
            .select(['q.id', 'k.id as worker_id'])
            .where('q.workspace_sid', '=', workspaceSid)
            .where('q.sid', 'in', members),
        ),
    );
  }

  // ---- real-time statistics (counts kept by migration 012's triggers)

  async taskCounts(scopeSid: string, taskChannelSid?: string): Promise<TaskCount[]> {
    let q = this.db
      .selectFrom('task_counts')
      .select(['assignment_status', 'priority', (eb) => eb.fn.sum<number>('tasks').as('tasks')])
      .where('scope_sid', '=', scopeSid)
      .groupBy(['assignment_status', 'priority']);
    if (taskChannelSid !== undefined) q = q.where('task_channel_sid', '=', taskChannelSid);
    return (await this.rows(q)).map((r) => ({
      status: r.assignment_status as TaskStatus,
      priority: Number(r.priority),
      tasks: Number(r.tasks),
    }));
  }

  async longestWaiting(scope: WaitingScope): Promise<WaitingTask | null> {
    const since = scope.since === 'created' ? 't.created_ms' : 't.queue_entered_ms';
    const [column, sid] =
      scope.taskQueueSid !== undefined
        ? (['t.task_queue_sid', scope.taskQueueSid] as const)
        : scope.workflowSid !== undefined
          ? (['t.workflow_sid', scope.workflowSid] as const)
          : (['t.workspace_sid', scope.workspaceSid] as const);
    // The head of a waiting index (migration 012): its WHERE is spelled as the index's, literally,
    // so that SQLite can use the partial index.
    const head = (channel: string | ReturnType<typeof sql.ref>) => {
      let q = this.db
        .selectFrom('tasks as t')
        .where(column, '=', sid)
        .where('t.task_channel_sid', '=', channel as string)
        .where(sql<boolean>`t.assignment_status IN ('pending', 'reserved')`);
      if (scope.since === 'queueEntered') q = q.where('t.queue_entered_ms', 'is not', null);
      return q.orderBy(since).orderBy('t.id').limit(1);
    };
    const query =
      scope.taskChannelSid !== undefined
        ? head(scope.taskChannelSid).select(['t.sid', `${since} as since_ms`])
        : this.db
            .selectFrom('tasks as t')
            .select(['t.sid', `${since} as since_ms`])
            .where('t.id', 'in', (eb) =>
              eb
                .selectFrom('task_channels as c')
                .select(() => head(sql.ref('c.sid')).select('t.id').as('id'))
                .where('c.workspace_sid', '=', scope.workspaceSid),
            )
            .orderBy(since)
            .orderBy('t.id')
            .limit(1);
    const [r] = await this.rows(query);
    return r ? { sid: r.sid as string, sinceMs: Number(r.since_ms) } : null;
  }

  async queueActivityCounts(workspaceSid: string, taskQueueSid: string): Promise<QueueActivityCount[]> {
    const q = this.db
      .selectFrom('activities as a')
      .select((eb) => [
        'a.sid',
        'a.friendly_name',
        'a.available',
        eb
          .selectFrom('queue_activity_counts as c')
          .select((e) => e.fn.sum<number>('c.workers').as('n'))
          .whereRef('c.activity_sid', '=', 'a.sid')
          .where('c.queue_id', '=', (e) =>
            e.selectFrom('task_queues').select('id').where('sid', '=', taskQueueSid),
          )
          .as('workers'),
      ])
      .where('a.workspace_sid', '=', workspaceSid)
      .orderBy('a.id');
    return (await this.rows(q)).map((r) => ({
      activitySid: r.sid as string,
      friendlyName: r.friendly_name as string,
      available: r.available === true || r.available === 1,
      workers: Number(r.workers ?? 0),
    }));
  }

  // ---- workflows

  async getWorkflow(workspaceSid: string, sid: string): Promise<Workflow | null> {
    const r = await this.one(
      this.db
        .selectFrom('workflows')
        .selectAll()
        .where('sid', '=', sid)
        .where('workspace_sid', '=', workspaceSid),
    );
    return r ? toWorkflow(r) : null;
  }

  listWorkflows(workspaceSid: string, filter: WorkflowFilter, query: PageQuery): Promise<Page<Workflow>> {
    let q = this.db.selectFrom('workflows as f').selectAll('f').where('f.workspace_sid', '=', workspaceSid);
    if (filter.friendlyName !== undefined) q = q.where('f.name_key', '=', nameKey(filter.friendlyName));
    return this.page(q, 'f.id', query, toWorkflow);
  }

  async insertWorkflow(f: NewWorkflow): Promise<void> {
    await this.run(
      this.db.insertInto('workflows').values({
        sid: f.sid,
        account_sid: f.accountSid,
        workspace_sid: f.workspaceSid,
        friendly_name: f.friendlyName,
        name_key: nameKey(f.friendlyName),
        configuration: f.configuration,
        assignment_callback_url: f.assignmentCallbackUrl,
        fallback_assignment_callback_url: f.fallbackAssignmentCallbackUrl,
        task_reservation_timeout: f.taskReservationTimeout,
        date_created: f.now,
        date_updated: f.now,
      }),
    );
  }

  async updateWorkflow(sid: string, p: WorkflowPatch, now: Date): Promise<void> {
    await this.run(
      this.db
        .updateTable('workflows')
        .set({
          friendly_name: p.friendlyName,
          name_key: p.friendlyName === undefined ? undefined : nameKey(p.friendlyName),
          configuration: p.configuration,
          assignment_callback_url: p.assignmentCallbackUrl,
          fallback_assignment_callback_url: p.fallbackAssignmentCallbackUrl,
          task_reservation_timeout: p.taskReservationTimeout,
          date_updated: now,
        })
        .where('sid', '=', sid),
    );
  }

  async deleteWorkflow(sid: string): Promise<void> {
    await this.run(this.db.deleteFrom('workflows').where('sid', '=', sid));
  }

  // ---- the event log

  async appendEvent(e: NewDomainEvent): Promise<void> {
    const row = eventRow(e);
    const [r] = await this.rows({ compile: () => ({ ...this.eventInsert, parameters: Object.values(row) }) });
    this.appended([{ ...e, sid: row.sid ?? eventSid(Number(r!.id), e.workspaceSid) }]);
  }

  async appendEvents(events: readonly NewDomainEvent[]): Promise<void> {
    // In chunks: each statement's parameters stay under both dialects' limits.
    for (let i = 0; i < events.length; i += EVENT_CHUNK) {
      const rows = events.slice(i, i + EVENT_CHUNK).map(eventRow);
      // One statement's ids are drawn in the order of its rows.
      const ids = (await this.rows(this.db.insertInto('events').values(rows).returning('id')))
        .map((r) => Number(r.id))
        .sort((a, b) => a - b);
      this.appended(
        rows.map((r, j) => ({ ...events[i + j]!, sid: r.sid ?? eventSid(ids[j]!, r.workspace_sid) })),
      );
    }
  }

  /** Queues appended events, with their SIDs, for the outbox (published once their transaction commits). */
  protected appended(events: readonly NewDomainEvent[]): void {
    for (const e of events) this.events.push(e);
  }

  /**
   * No index walks a workspace's events by id since migration 015 (nothing in the server pages
   * that way): this reads the workspace's events through `events_by_time` and sorts them, fine
   * for tests and small logs. A reader of a large log pages by (time, id) (`listEventPage`).
   */
  async listEvents(workspaceSid: string, afterId: number, limit: number): Promise<DomainEvent[]> {
    const rows = await this.rows(
      this.db
        .selectFrom('events')
        .selectAll()
        .where('workspace_sid', '=', workspaceSid)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit),
    );
    return rows.map(toDomainEvent);
  }

  async listEventPage(
    workspaceSid: string,
    filter: EventFilter,
    page: PageQuery,
  ): Promise<Page<DomainEvent>> {
    const { query, start } = eventPageQuery(this.db, workspaceSid, filter, page);
    return toEventPage(await this.rows(query), start, page.pageSize);
  }

  async getEvent(workspaceSid: string, sid: string): Promise<DomainEvent | null> {
    const [r] = await this.rows(
      whereEventSid(this.db.selectFrom('events').selectAll(), workspaceSid, sid).where(
        'workspace_sid',
        '=',
        workspaceSid,
      ),
    );
    return r ? toDomainEvent(r) : null;
  }

  // ---- event callback deliveries

  async listDeliveries(
    workspaceSid: string,
    state: 'pending' | 'failed',
    query: PageQuery,
  ): Promise<Page<EventDelivery>> {
    const q = deliveriesWithEvents(this.db)
      .where('d.workspace_sid', '=', workspaceSid)
      .where('d.state', '=', state);
    return this.page(q, 'd.event_id', query, toDelivery);
  }

  async countDeliveries(): Promise<{ pending: number; failed: number }> {
    const rows = await this.rows(
      this.db
        .selectFrom('event_deliveries')
        .select((eb) => ['state', eb.fn.countAll().as('n')])
        .groupBy('state'),
    );
    const count = (state: string) => Number(rows.find((r) => r.state === state)?.n ?? 0);
    return { pending: count('pending'), failed: count('failed') };
  }

  /** Asked after every commit (the callback sender's wake-up): compiled once, not per call. */
  private nextDeliveryDueCompiled?: Compilable;

  async nextDeliveryDue(): Promise<number | null> {
    this.nextDeliveryDueCompiled ??= compiledOnce(() => nextDeliveryDueQuery(this.db))();
    const [r] = await this.rows(this.nextDeliveryDueCompiled);
    return r?.due === null || r?.due === undefined ? null : Number(r.due);
  }

  async claimDeliveries(nowMs: number, leaseMs: number, limit: number, batch = 1): Promise<EventDelivery[]> {
    let due = dueDeliveries(this.db, nowMs, limit).select('d.workspace_sid');
    if (this.skipLockedTimers) due = due.forUpdate().skipLocked();
    const heads = await this.rows(due);
    if (heads.length === 0) return [];
    const ids: number[] = [];
    for (const head of heads) {
      const headId = Number(head.event_id);
      if (batch <= 1) {
        ids.push(headId);
        continue;
      }
      // The head, then those after it as long as each is due and free (none was tried yet, so
      // they are): one claim, one lease, for a run of the workspace's events.
      const run = await this.rows(followingDeliveries(this.db, head.workspace_sid as string, headId, batch));
      for (const r of run) {
        if (Number(r.next_attempt_ms) > nowMs || Number(r.leased_until_ms) > nowMs) break;
        ids.push(Number(r.event_id));
      }
    }
    await this.run(
      this.db
        .updateTable('event_deliveries')
        .set({ leased_until_ms: nowMs + leaseMs })
        .where('event_id', 'in', ids),
    );
    const rows = await this.rows(
      deliveriesWithEvents(this.db).where('d.event_id', 'in', ids).orderBy('d.event_id'),
    );
    return rows.map(toDelivery);
  }

  async settleDelivery(eventId: number, outcome: DeliveryOutcome): Promise<void> {
    await this.run(settleQuery(this.db, eventId, outcome));
  }

  async settleDeliveries(
    delivered: readonly number[],
    failure: { eventId: number; outcome: DeliveryOutcome } | null,
    released: readonly number[],
  ): Promise<void> {
    if (delivered.length > 0) await this.run(deleteDeliveries(this.db, delivered));
    if (failure) await this.run(settleQuery(this.db, failure.eventId, failure.outcome));
    if (released.length > 0) await this.run(releaseDeliveries(this.db, released));
  }

  async queueDeliveries(
    workspaceSid: string,
    url: string,
    fromMs: number,
    toMs: number,
    nowMs: number,
  ): Promise<number> {
    const range = this.db
      .selectFrom('events')
      .where('workspace_sid', '=', workspaceSid)
      .where('time_ms', '>=', fromMs)
      .where('time_ms', '<=', toMs);
    const [counted] = await this.rows(range.select((eb) => eb.fn.countAll().as('n')));
    await this.run(
      this.db
        .insertInto('event_deliveries')
        .columns(['event_id', 'workspace_sid', 'url', 'state', 'next_attempt_ms'])
        .expression(
          range.select((eb) => [
            'id',
            'workspace_sid',
            eb.val(url).as('url'),
            eb.val('pending').as('state'),
            eb.val(nowMs).as('next_attempt_ms'),
          ]),
        )
        .onConflict((oc) =>
          oc.column('event_id').doUpdateSet({
            state: 'pending',
            url,
            attempts: 0,
            first_attempt_ms: null,
            next_attempt_ms: nowMs,
            leased_until_ms: 0,
          }),
        ),
    );
    return Number(counted?.n ?? 0);
  }

  async deleteEventsBefore(beforeMs: number, limit: number): Promise<number> {
    const oldest = await this.rows(
      this.db.selectFrom('events').select(['id', 'time_ms']).orderBy('id').limit(limit),
    );
    const ids = oldest.filter((r) => Number(r.time_ms) < beforeMs).map((r) => Number(r.id));
    if (ids.length === 0) return 0;
    await this.run(this.db.deleteFrom('event_deliveries').where('event_id', 'in', ids));
    await this.run(this.db.deleteFrom('events').where('id', 'in', ids));
    return ids.length;
  }

  // ---- the event stream's reads of the log (event-queries.ts says why two orders). The stores
  // that claim with SKIP LOCKED are those with several writers at once, whose ids may commit
  // out of order.

  async readEventLog(
    workspaceSid: string,
    after: LogPosition,
    limit: number,
  ): Promise<{ events: PositionedEvent[]; heldBack: boolean }> {
    const concurrent = this.skipLockedTimers;
    const rows = await this.rows(eventLogQuery(this.db, concurrent, workspaceSid, after, limit));
    const events = rows.map((r) => ({ event: toDomainEvent(r), position: toLogPosition(r) }));
    let heldBack = false;
    if (concurrent && rows.length < limit) {
      const from = events.length > 0 ? events[events.length - 1]!.position : after;
      heldBack = (await this.rows(eventLogHeldBackQuery(this.db, workspaceSid, from))).length > 0;
    }
    return { events, heldBack };
  }

  async eventLogHead(workspaceSid: string): Promise<LogPosition> {
    const [r] = await this.rows(eventLogHeadQuery(this.db, this.skipLockedTimers, workspaceSid));
    return r && r.id !== null ? toLogPosition(r) : { tx: 0, id: 0 };
  }

  async eventLogPositionOf(workspaceSid: string, id: number): Promise<LogPosition> {
    if (!this.skipLockedTimers) return { tx: 0, id };
    const [r] = await this.rows(eventLogTxQuery(this.db, workspaceSid, id));
    if (!r) return this.eventLogHead(workspaceSid);
    return { tx: toLogPosition(r).tx, id };
  }

  // ---- assignment callbacks' queue (migration 014)

  async claimAssignmentCallbacks(nowMs: number, leaseMs: number, limit: number): Promise<DomainEvent[]> {
    let due = dueAssignmentCallbacks(this.db, nowMs, limit);
    if (this.skipLockedTimers) due = due.forUpdate().skipLocked();
    const ids = (await this.rows(due)).map((r) => Number(r.event_id));
    if (ids.length === 0) return [];
    await this.run(leaseAssignmentCallbacks(this.db, ids, nowMs + leaseMs));
    const events = (await this.rows(eventsByIds(this.db, ids))).map(toDomainEvent);
    // Retention took the event: there is nothing left to call back about.
    const gone = ids.filter((id) => !events.some((e) => e.id === id));
    if (gone.length > 0) await this.run(settleAssignmentCallbacksQuery(this.db, gone, true));
    return events;
  }

  async nextAssignmentCallbackDue(): Promise<number | null> {
    const [r] = await this.rows(nextAssignmentCallbackQuery(this.db));
    return r?.due === null || r?.due === undefined ? null : Number(r.due);
  }

  async settleAssignmentCallbacks(eventIds: readonly number[], done: boolean): Promise<void> {
    if (eventIds.length === 0) return;
    await this.run(settleAssignmentCallbacksQuery(this.db, eventIds, done));
  }

  // ---- timers

  async nextTimerDue(): Promise<number | null> {
    const [r] = await this.rows(
      this.db.selectFrom('timers').select((eb) => eb.fn.min('due_at_ms').as('due')),
    );
    return r?.due === null || r?.due === undefined ? null : Number(r.due);
  }

  async scheduleTimer(t: NewTimer): Promise<void> {
    await this.run(
      this.db
        .insertInto('timers')
        .values({
          workspace_sid: t.workspaceSid,
          kind: t.kind,
          resource_sid: t.resourceSid,
          due_at_ms: t.dueAtMs,
        })
        .onConflict((oc) =>
          oc
            .columns(['kind', 'resource_sid'])
            .doUpdateSet({ workspace_sid: t.workspaceSid, due_at_ms: t.dueAtMs }),
        ),
    );
  }

  async cancelTimer(kind: string, resourceSid: string): Promise<void> {
    await this.run(
      this.db.deleteFrom('timers').where('kind', '=', kind).where('resource_sid', '=', resourceSid),
    );
  }

  async claimDueTimers(nowMs: number, limit: number): Promise<Timer[]> {
    let due = this.db
      .selectFrom('timers')
      .selectAll()
      .where('due_at_ms', '<=', nowMs)
      .orderBy('due_at_ms')
      .orderBy('id')
      .limit(limit);
    if (this.skipLockedTimers) due = due.forUpdate().skipLocked();
    const timers = (await this.rows(due)).map((r) => ({
      id: Number(r.id),
      workspaceSid: r.workspace_sid as string,
      kind: r.kind as string,
      resourceSid: r.resource_sid as string,
      dueAtMs: Number(r.due_at_ms),
    }));
    if (timers.length > 0) {
      await this.run(
        this.db.deleteFrom('timers').where(
          'id',
          'in',
          timers.map((t) => t.id),
        ),
      );
    }
    return timers;
  }

  // ---- reclaiming what large deletes left

  async pendingReclaims(): Promise<Reclaim[]> {
    const rows = await this.rows(this.db.selectFrom('reclaims').select(['id', 'kind', 'sid']).orderBy('id'));
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind as Reclaim['kind'], sid: r.sid as string }));
  }

  async reclaimBatch(reclaim: Reclaim, batchSize: number): Promise<boolean> {
    let claim = this.db.selectFrom('reclaims').select('id').where('id', '=', reclaim.id);
    if (this.skipLockedTimers) claim = claim.forUpdate().skipLocked();
    if ((await this.rows(claim)).length === 0) return false; // finished, or another node is on it
    const more =
      reclaim.kind === 'workspace'
        ? await this.reclaimWorkspaceBatch(reclaim.sid, batchSize)
        : await this.reclaimTaskChannelBatch(reclaim.sid, batchSize);
    if (!more) await this.run(this.db.deleteFrom('reclaims').where('id', '=', reclaim.id));
    return more;
  }

  /** Up to `batchSize` workers (their channels and counts go with them by trigger), then the rest. */
  private async reclaimWorkspaceBatch(sid: string, batchSize: number): Promise<boolean> {
    // The batch is the workers up to the batchSize-th id: statements of one shape, whatever is left.
    const [edge] = await this.rows(
      this.db
        .selectFrom('workers')
        .select('id')
        .where('workspace_sid', '=', sid)
        .orderBy('id')
        .limit(1)
        .offset(batchSize - 1),
    );
    const upTo = edge ? Number(edge.id) : Number.MAX_SAFE_INTEGER;
    await this.run(
      this.db
        .deleteFrom('task_queue_members')
        .where('worker_id', 'in', (eb) =>
          eb.selectFrom('workers').select('id').where('workspace_sid', '=', sid).where('id', '<=', upTo),
        ),
    );
    await this.run(this.db.deleteFrom('workers').where('workspace_sid', '=', sid).where('id', '<=', upTo));
    if (edge) return true;
    // No worker is left: what remains is small (queues, workflows, channels, activities, counts).
    await this.run(
      this.db
        .deleteFrom('task_queue_members')
        .where('queue_id', 'in', (eb) =>
          eb.selectFrom('task_queues').select('id').where('workspace_sid', '=', sid),
        ),
    );
    await this.run(this.db.deleteFrom('task_queues').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('workflows').where('workspace_sid', '=', sid));
    for (const r of await this.rows(
      this.db.selectFrom('task_channels').select('sid').where('workspace_sid', '=', sid),
    )) {
      await this.dropCounts({ taskChannelSid: r.sid as string });
    }
    for (const r of await this.rows(
      this.db.selectFrom('activities').select('sid').where('workspace_sid', '=', sid),
    )) {
      await this.dropCounts({ activitySid: r.sid as string });
    }
    await this.run(this.db.deleteFrom('task_channels').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('activities').where('workspace_sid', '=', sid));
    await this.run(this.db.deleteFrom('timers').where('workspace_sid', '=', sid));
    return false;
  }

  /** Up to `batchSize` of the deleted task channel's worker channel rows, then its counts. */
  private async reclaimTaskChannelBatch(sid: string, batchSize: number): Promise<boolean> {
    await this.run(
      this.db
        .deleteFrom('worker_channels')
        .where('task_channel_sid', '=', sid)
        .where('worker_sid', 'in', (eb) =>
          eb
            .selectFrom('worker_channels')
            .select('worker_sid')
            .where('task_channel_sid', '=', sid)
            .limit(batchSize),
        ),
    );
    const left = await this.rows(
      this.db.selectFrom('worker_channels').select('worker_sid').where('task_channel_sid', '=', sid).limit(1),
    );
    if (left.length > 0) return true;
    // Moves of workers with rows left behind may have counted into it meanwhile: dropped last.
    await this.dropCounts({ taskChannelSid: sid });
    return false;
  }

  // ---- cumulative statistics' rollups (src/storage/statistics-rollups.ts)

  async statisticsRolledUntil(): Promise<number> {
    const [r] = await this.rows(rolledUntilQuery(this.db));
    return r ? Number(r.rolled_until_ms) : 0;
  }

  async statisticsRollups(
    scopeSids: readonly string[],
    taskChannelSid: string | undefined,
    spanMinutes: number,
    fromBucket: number,
    toBucket: number,
  ): Promise<string[]> {
    if (scopeSids.length === 0 || toBucket <= fromBucket) return [];
    const rows = await this.rows(
      rollupsQuery(this.db, scopeSids, taskChannelSid, spanMinutes, fromBucket, toBucket),
    );
    return rows.map((r) => r.tally as string);
  }

  async statisticsSpanRows(spanMinutes: number, fromBucket: number, toBucket: number): Promise<RollupRow[]> {
    if (toBucket <= fromBucket) return [];
    return (await this.rows(spanRowsQuery(this.db, spanMinutes, fromBucket, toBucket))).map(toRollupRow);
  }

  async statisticsEvents(query: StatisticsEventQuery): Promise<LoggedEvent[]> {
    if (query.toMs <= query.fromMs) return [];
    return (await this.rows(statisticsEventsQuery(this.db, query))).map(toLoggedEvent);
  }

  async lastQueueEntry(taskSid: string, atMs: number): Promise<LoggedEvent | null> {
    const [r] = await this.rows(lastQueueEntryQuery(this.db, taskSid, atMs, QUEUE_ENTRY_TYPES));
    return r ? toLoggedEvent(r) : null;
  }

  async statisticsWorkspaces(): Promise<string[]> {
    return (await this.rows(workspaceSidsQuery(this.db))).map((r) => r.sid as string);
  }

  async firstEventTime(workspaceSid: string, fromMs: number): Promise<number | null> {
    const [r] = await this.rows(firstEventTimeQuery(this.db, workspaceSid, fromMs));
    return r ? Number(r.time_ms) : null;
  }

  async beginStatisticsRoll(): Promise<number> {
    const [r] = await this.rows(rolledUntilQuery(this.db, this.rowLocks));
    await this.lockEventsForRoll();
    return r ? Number(r.rolled_until_ms) : 0;
  }

  /** PostgreSQL waits here for transactions appending events (SQLite has one writer at a time). */
  protected async lockEventsForRoll(): Promise<void> {}

  /** Whether SELECT … FOR UPDATE exists (PostgreSQL) or every write holds the database (SQLite). */
  protected readonly rowLocks: boolean = false;

  async insertStatisticsRollups(rows: readonly RollupRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROLLUP_CHUNK) {
      await this.run(insertRollupsQuery(this.db, rows.slice(i, i + ROLLUP_CHUNK)));
    }
  }

  async setStatisticsRolledUntil(ms: number): Promise<void> {
    await this.run(setRolledUntilQuery(this.db, ms));
  }

  // ---- after commit

  onCommit(effect: () => void): void {
    this.effects.push(effect);
  }

  /** Hands over what the transaction that just ended queued: its effects and its events. */
  takeCommitted(): { effects: Array<() => void>; events: NewDomainEvent[] } {
    const taken = { effects: this.effects, events: this.events };
    this.effects = [];
    this.events = [];
    return taken;
  }
}
