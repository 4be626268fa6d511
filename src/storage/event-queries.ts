import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { InvalidParameterError } from '../domain/errors.js';
import { eventRefs } from '../domain/events.js';
import type {
  DeliveryOutcome,
  DomainEvent,
  EventDelivery,
  EventFilter,
  LogPosition,
  NewDomainEvent,
  Page,
  PageQuery,
} from '../services/ports/store.js';
import { eventIdOfSid } from './event-sids.js';
import { checkPageOffset } from './paging.js';
import { toDomainEvent, type Row } from './rows.js';
import type { Database } from './schema.js';

/**
 * The Events list and the callback deliveries, for both dialects (CrudQueries runs them).
 * Event pages are keyset pages on (time_ms, id): each filter has an index that walks that
 * order (migration 010), so a page costs one index seek however deep it is.
 */

/**
 * An event's row: its columns and the SIDs it pertains to. Its own SID is derived from its id
 * once inserted (`eventSid`); the `sid` column holds only a SID given by the caller, and those
 * of events logged before migration 015.
 */
export function eventRow(e: NewDomainEvent) {
  const refs = eventRefs(e);
  return {
    account_sid: e.accountSid,
    workspace_sid: e.workspaceSid,
    type: e.type,
    resource_type: e.resourceType,
    resource_sid: e.resourceSid,
    actor: e.actor,
    time_ms: e.timeMs,
    data: JSON.stringify(e.data),
    sid: e.sid ?? null,
    source_ip: e.sourceIp ?? null,
    task_sid: refs.taskSid,
    reservation_sid: refs.reservationSid,
    worker_sid: refs.workerSid,
    task_queue_sid: refs.taskQueueSid,
    workflow_sid: refs.workflowSid,
    task_channel_sid: refs.taskChannelSid,
  };
}

type EventKey = { timeMs: number; id: number };
type EventStart = { kind: 'after' | 'before'; key: EventKey } | { kind: 'offset'; offset: number };

const EVENT_TOKEN = /^P([AB])([0-9a-z]{1,12})_([0-9a-z]{1,12})$/;

const eventToken = (kind: 'A' | 'B', k: EventKey) => `P${kind}${k.timeMs.toString(36)}_${k.id.toString(36)}`;

function decodeEventStart(query: PageQuery): EventStart {
  if (query.pageToken !== undefined && query.pageToken !== '') {
    const m = EVENT_TOKEN.exec(query.pageToken);
    const timeMs = m ? parseInt(m[2]!, 36) : NaN;
    const id = m ? parseInt(m[3]!, 36) : NaN;
    if (!m || !Number.isSafeInteger(timeMs) || !Number.isSafeInteger(id)) {
      throw new InvalidParameterError('PageToken', `Invalid PageToken: ${query.pageToken.slice(0, 64)}`);
    }
    return { kind: m[1] === 'A' ? 'after' : 'before', key: { timeMs, id } };
  }
  return { kind: 'offset', offset: checkPageOffset(query) };
}

/**
 * The query of one Events page (one row more than the page, to learn whether more follow).
 * A filter on a resource SID reads that resource's index (SIDs are unique across workspaces,
 * so the workspace is a check on the rows it finds); otherwise the workspace's index by type,
 * or by time.
 */
export function eventPageQuery(db: Kysely<Database>, workspaceSid: string, f: EventFilter, query: PageQuery) {
  const start = decodeEventStart(query);
  let q: SelectQueryBuilder<Database, 'events', object> = db.selectFrom('events');
  if (f.sid !== undefined) q = whereEventSid(q, workspaceSid, f.sid);
  if (f.reservationSid !== undefined) q = q.where('reservation_sid', '=', f.reservationSid);
  if (f.taskSid !== undefined) q = q.where('task_sid', '=', f.taskSid);
  if (f.workerSid !== undefined) q = q.where('worker_sid', '=', f.workerSid);
  if (f.taskQueueSid !== undefined) q = q.where('task_queue_sid', '=', f.taskQueueSid);
  if (f.workflowSid !== undefined) q = q.where('workflow_sid', '=', f.workflowSid);
  if (f.taskChannelSid !== undefined) q = q.where('task_channel_sid', '=', f.taskChannelSid);
  q = q.where('workspace_sid', '=', workspaceSid);
  if (f.type !== undefined) q = q.where('type', '=', f.type);
  q = q.where('time_ms', '>=', f.fromMs).where('time_ms', '<=', f.toMs);
  let sel = q.selectAll();
  if (start.kind === 'offset') {
    sel = sel.orderBy('time_ms').orderBy('id').offset(start.offset);
  } else if (start.kind === 'after') {
    sel = sel
      .where((eb) => eb(eb.refTuple('time_ms', 'id'), '>', eb.tuple(start.key.timeMs, start.key.id)))
      .orderBy('time_ms')
      .orderBy('id');
  } else {
    sel = sel
      .where((eb) => eb(eb.refTuple('time_ms', 'id'), '<', eb.tuple(start.key.timeMs, start.key.id)))
      .orderBy('time_ms', 'desc')
      .orderBy('id', 'desc');
  }
  return { query: sel.limit(query.pageSize + 1), start };
}

/**
 * The event a SID names: by its id when the SID was derived from one (and the event has no
 * stored SID, which would be its SID instead), else by its stored SID.
 */
export function whereEventSid<Q extends SelectQueryBuilder<Database, 'events', object>>(
  q: Q,
  workspaceSid: string,
  sid: string,
): Q {
  const id = eventIdOfSid(sid, workspaceSid);
  return (id === null ? q.where('sid', '=', sid) : q.where('id', '=', id).where('sid', 'is', null)) as Q;
}

export function toEventPage(rows: readonly Row[], start: EventStart, pageSize: number): Page<DomainEvent> {
  const hasMore = rows.length > pageSize;
  const items = rows.slice(0, pageSize).map(toDomainEvent);
  if (start.kind === 'before') items.reverse();
  const first = items[0];
  const last = items[items.length - 1];
  const atStart = start.kind === 'offset' ? start.offset === 0 : start.kind === 'before' && !hasMore;
  const atEnd = start.kind === 'before' ? false : !hasMore;
  return {
    items,
    nextPageToken: last !== undefined && !atEnd ? eventToken('A', last) : null,
    previousPageToken: first !== undefined && !atStart ? eventToken('B', first) : null,
  };
}

/** A delivery's row joined with its event's (the event's columns as they are, the delivery's prefixed). */
export function deliveriesWithEvents(db: Kysely<Database>) {
  return db
    .selectFrom('event_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .selectAll('e')
    .select([
      'd.url as d_url',
      'd.state as d_state',
      'd.attempts as d_attempts',
      'd.first_attempt_ms as d_first_attempt_ms',
      'd.next_attempt_ms as d_next_attempt_ms',
      'd.last_status as d_last_status',
      'd.last_error as d_last_error',
    ]);
}

export function toDelivery(r: Row): EventDelivery {
  const event = toDomainEvent(r);
  return {
    eventId: event.id,
    workspaceSid: event.workspaceSid,
    url: r.d_url as string,
    state: r.d_state as 'pending' | 'failed',
    attempts: Number(r.d_attempts),
    firstAttemptMs: r.d_first_attempt_ms === null ? null : Number(r.d_first_attempt_ms),
    nextAttemptMs: Number(r.d_next_attempt_ms),
    lastStatus: r.d_last_status === null ? null : Number(r.d_last_status),
    lastError: (r.d_last_error as string | null) ?? null,
    event,
  };
}

/** Each workspace's oldest pending delivery (only it may go out). */
function pendingHeads(db: Kysely<Database>) {
  return db
    .selectFrom('event_deliveries as d')
    .where('d.state', '=', 'pending')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('event_deliveries as p')
            .select('p.event_id')
            .whereRef('p.workspace_sid', '=', 'd.workspace_sid')
            .where('p.state', '=', 'pending')
            .whereRef('p.event_id', '<', 'd.event_id'),
        ),
      ),
    );
}

/** When the next delivery may go out: the earliest head's retry time, or its lease's end. */
export function nextDeliveryDueQuery(db: Kysely<Database>) {
  return pendingHeads(db).select(
    sql<number>`min(CASE WHEN d.leased_until_ms > d.next_attempt_ms THEN d.leased_until_ms ELSE d.next_attempt_ms END)`.as(
      'due',
    ),
  );
}

/**
 * The deliveries that may go out now: due, not leased, and each its workspace's oldest pending
 * one (a workspace's events go out one at a time, in order).
 */
export function dueDeliveries(db: Kysely<Database>, nowMs: number, limit: number) {
  return pendingHeads(db)
    .select('d.event_id')
    .where('d.next_attempt_ms', '<=', nowMs)
    .where('d.leased_until_ms', '<=', nowMs)
    .orderBy('d.next_attempt_ms')
    .orderBy('d.event_id')
    .limit(limit);
}

export function settleQuery(db: Kysely<Database>, eventId: number, outcome: DeliveryOutcome) {
  if (outcome.kind === 'delivered') return db.deleteFrom('event_deliveries').where('event_id', '=', eventId);
  return db
    .updateTable('event_deliveries')
    .set({
      state: outcome.kind === 'failed' ? 'failed' : 'pending',
      attempts: outcome.attempts,
      first_attempt_ms: outcome.firstAttemptMs,
      next_attempt_ms: outcome.nextAttemptMs,
      leased_until_ms: 0,
      last_status: outcome.status,
      last_error: outcome.error.slice(0, 500),
    })
    .where('event_id', '=', eventId);
}

// ---- the event stream's reads of the log (src/live/event-stream.ts)
//
// With one writer at a time (SQLite) ids follow commit order: the log is read by id, `tx` is 0.
// With several (PostgreSQL) a lower id can commit after a higher one; each event records its
// transaction's id (`tx`, migration 014), the log is read in (tx, id) order, and only below the
// oldest transaction still running, where nothing more can commit.

const FINAL = sql<boolean>`tx < pg_snapshot_xmin(pg_current_snapshot())`;
const afterPosition = (p: LogPosition) => sql<boolean>`(tx, id) > (${String(p.tx)}::xid8, ${p.id})`;

/** The events after `after`, in log order, as far as the log is final. */
export function eventLogQuery(
  db: Kysely<Database>,
  concurrentWriters: boolean,
  workspaceSid: string,
  after: LogPosition,
  limit: number,
) {
  const q = db.selectFrom('events').selectAll().where('workspace_sid', '=', workspaceSid);
  if (!concurrentWriters) return q.where('id', '>', after.id).orderBy('id').limit(limit);
  return q
    .select(sql<string>`tx::text`.as('log_tx'))
    .where(afterPosition(after))
    .where(FINAL)
    .orderBy(sql`tx`)
    .orderBy('id')
    .limit(limit);
}

/** Whether committed events after `after` wait behind a transaction still running (PostgreSQL). */
export function eventLogHeldBackQuery(db: Kysely<Database>, workspaceSid: string, after: LogPosition) {
  return db
    .selectFrom('events')
    .select('id')
    .where('workspace_sid', '=', workspaceSid)
    .where(afterPosition(after))
    .where(sql<boolean>`NOT (${FINAL})`)
    .limit(1);
}

/** The newest final event's position (one row, or none for an empty log). */
export function eventLogHeadQuery(db: Kysely<Database>, concurrentWriters: boolean, workspaceSid: string) {
  // One writer: the log's newest id anywhere is a position every workspace may start after.
  if (!concurrentWriters) return db.selectFrom('events').select((eb) => eb.fn.max('id').as('id'));
  return db
    .selectFrom('events')
    .select(['id', sql<string>`tx::text`.as('log_tx')])
    .where('workspace_sid', '=', workspaceSid)
    .where(FINAL)
    .orderBy(sql`tx`, 'desc')
    .orderBy('id', 'desc')
    .limit(1);
}

/** The transaction of event `id`, or else of the oldest event after it (PostgreSQL). */
export function eventLogTxQuery(db: Kysely<Database>, workspaceSid: string, id: number) {
  return db
    .selectFrom('events')
    .select(['id', sql<string>`tx::text`.as('log_tx')])
    .where('workspace_sid', '=', workspaceSid)
    .where('id', '>=', id)
    .orderBy('id')
    .limit(1);
}

export function toLogPosition(r: Row): LogPosition {
  return { tx: r.log_tx === undefined || r.log_tx === null ? 0 : Number(r.log_tx), id: Number(r.id) };
}

// ---- assignment callbacks' queue (migration 014; src/events/assignment-callbacks.ts)

type AssignmentQueue = {
  assignment_callbacks: { event_id: number; leased_until_ms: number };
};

const assignmentQueue = (db: Kysely<Database>) => db.withTables<AssignmentQueue>();

/** Queued callbacks not leased at `nowMs`, oldest reservation first. */
export function dueAssignmentCallbacks(db: Kysely<Database>, nowMs: number, limit: number) {
  return assignmentQueue(db)
    .selectFrom('assignment_callbacks')
    .select('event_id')
    .where('leased_until_ms', '<=', nowMs)
    .orderBy('event_id')
    .limit(limit);
}

export function leaseAssignmentCallbacks(db: Kysely<Database>, eventIds: readonly number[], untilMs: number) {
  return assignmentQueue(db)
    .updateTable('assignment_callbacks')
    .set({ leased_until_ms: untilMs })
    .where('event_id', 'in', eventIds);
}

/** Done: the rows go. Released: they may be claimed again at once. */
export function settleAssignmentCallbacksQuery(
  db: Kysely<Database>,
  eventIds: readonly number[],
  done: boolean,
) {
  const q = assignmentQueue(db);
  return done
    ? q.deleteFrom('assignment_callbacks').where('event_id', 'in', eventIds)
    : q.updateTable('assignment_callbacks').set({ leased_until_ms: 0 }).where('event_id', 'in', eventIds);
}

export function eventsByIds(db: Kysely<Database>, ids: readonly number[]) {
  return db.selectFrom('events').selectAll().where('id', 'in', ids).orderBy('id');
}

// ---- event callbacks in batches: a workspace's head and the pending ones after it

/** A workspace's pending deliveries from `fromEventId` on, in order (its head first). */
export function followingDeliveries(
  db: Kysely<Database>,
  workspaceSid: string,
  fromEventId: number,
  limit: number,
) {
  return db
    .selectFrom('event_deliveries')
    .select(['event_id', 'next_attempt_ms', 'leased_until_ms'])
    .where('workspace_sid', '=', workspaceSid)
    .where('state', '=', 'pending')
    .where('event_id', '>=', fromEventId)
    .orderBy('event_id')
    .limit(limit);
}

/** Deliveries whose lease is given back (the rest of a batch after a failure, or a stop). */
export function releaseDeliveries(db: Kysely<Database>, eventIds: readonly number[]) {
  return db.updateTable('event_deliveries').set({ leased_until_ms: 0 }).where('event_id', 'in', eventIds);
}

export function deleteDeliveries(db: Kysely<Database>, eventIds: readonly number[]) {
  return db.deleteFrom('event_deliveries').where('event_id', 'in', eventIds);
}

/** When the next queued assignment callback may be claimed (its lease's end; 0 when free). */
export function nextAssignmentCallbackQuery(db: Kysely<Database>) {
  return assignmentQueue(db)
    .selectFrom('assignment_callbacks')
    .select((eb) => eb.fn.min('leased_until_ms').as('due'));
}
