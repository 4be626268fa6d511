import type { Kysely } from 'kysely';
import type { LoggedEvent, RollupRow, StatisticsEventQuery } from '../services/ports/statistics-rollups.js';
import type { Row } from './rows.js';
import type { Database } from './schema.js';

/**
 * Cumulative statistics' queries (migration 013), for both dialects (CrudQueries runs them).
 * Events are read by name (type, resource_sid, time_ms, data) through the workspace's, worker's
 * or task's (time, id) index; rollups by their primary key (scope, span, bucket, channel).
 */

type RollupTables = {
  statistics_rollups: {
    scope_sid: string;
    span_minutes: number;
    bucket: number;
    task_channel_sid: string;
    tally: string;
  };
  statistics_roll: { id: number; rolled_until_ms: number };
};

/** Rollup rows per INSERT: 5 parameters each. */
export const ROLLUP_CHUNK = 1_000;

const tables = (db: Kysely<Database>) => db.withTables<RollupTables>();

export function rolledUntilQuery(db: Kysely<Database>, forUpdate = false) {
  const q = tables(db).selectFrom('statistics_roll').select('rolled_until_ms').where('id', '=', 1);
  return forUpdate ? q.forUpdate() : q;
}

export function setRolledUntilQuery(db: Kysely<Database>, ms: number) {
  return tables(db).updateTable('statistics_roll').set({ rolled_until_ms: ms }).where('id', '=', 1);
}

export function rollupsQuery(
  db: Kysely<Database>,
  scopeSids: readonly string[],
  taskChannelSid: string | undefined,
  spanMinutes: number,
  fromBucket: number,
  toBucket: number,
) {
  let q = tables(db)
    .selectFrom('statistics_rollups')
    .select('tally')
    .where('scope_sid', 'in', [...scopeSids])
    .where('span_minutes', '=', spanMinutes)
    .where('bucket', '>=', fromBucket)
    .where('bucket', '<', toBucket);
  if (taskChannelSid !== undefined) q = q.where('task_channel_sid', '=', taskChannelSid);
  return q;
}

export function spanRowsQuery(
  db: Kysely<Database>,
  spanMinutes: number,
  fromBucket: number,
  toBucket: number,
) {
  return tables(db)
    .selectFrom('statistics_rollups')
    .select(['scope_sid', 'span_minutes', 'bucket', 'task_channel_sid', 'tally'])
    .where('span_minutes', '=', spanMinutes)
    .where('bucket', '>=', fromBucket)
    .where('bucket', '<', toBucket);
}

export function toRollupRow(r: Row): RollupRow {
  return {
    scopeSid: r.scope_sid as string,
    spanMinutes: Number(r.span_minutes),
    bucket: Number(r.bucket),
    taskChannelSid: r.task_channel_sid as string,
    tally: r.tally as string,
  };
}

export function insertRollupsQuery(db: Kysely<Database>, rows: readonly RollupRow[]) {
  return tables(db)
    .insertInto('statistics_rollups')
    .values(
      rows.map((r) => ({
        scope_sid: r.scopeSid,
        span_minutes: r.spanMinutes,
        bucket: r.bucket,
        task_channel_sid: r.taskChannelSid,
        tally: r.tally,
      })),
    );
}

const EVENT_COLUMNS = ['id', 'type', 'resource_sid', 'time_ms', 'data'] as const;

export function statisticsEventsQuery(db: Kysely<Database>, q: StatisticsEventQuery) {
  let sel = db.selectFrom('events').select(EVENT_COLUMNS);
  sel =
    q.workerSid !== undefined
      ? sel.where('worker_sid', '=', q.workerSid).where('workspace_sid', '=', q.workspaceSid)
      : sel.where('workspace_sid', '=', q.workspaceSid);
  return sel
    .where('time_ms', '>=', q.fromMs)
    .where('time_ms', '<', q.toMs)
    .where('type', 'in', [...q.types])
    .orderBy('time_ms')
    .orderBy('id');
}

export function lastQueueEntryQuery(
  db: Kysely<Database>,
  taskSid: string,
  atMs: number,
  types: readonly string[],
) {
  return db
    .selectFrom('events')
    .select(EVENT_COLUMNS)
    .where('task_sid', '=', taskSid)
    .where('time_ms', '<=', atMs)
    .where('type', 'in', [...types])
    .orderBy('time_ms', 'desc')
    .orderBy('id', 'desc')
    .limit(1);
}

export function workspaceSidsQuery(db: Kysely<Database>) {
  return db.selectFrom('workspaces').select('sid');
}

export function firstEventTimeQuery(db: Kysely<Database>, workspaceSid: string, fromMs: number) {
  return db
    .selectFrom('events')
    .select('time_ms')
    .where('workspace_sid', '=', workspaceSid)
    .where('time_ms', '>=', fromMs)
    .orderBy('time_ms')
    .limit(1);
}

export function toLoggedEvent(r: Row): LoggedEvent {
  return {
    id: Number(r.id),
    type: r.type as string,
    resourceSid: r.resource_sid as string,
    timeMs: Number(r.time_ms),
    data: JSON.parse(r.data as string) as Record<string, unknown>,
  };
}
