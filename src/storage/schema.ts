import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Generated,
} from 'kysely';

/**
 * The tables as the SQL builder sees them, the same in both dialects. Booleans and dates are
 * written as JavaScript values; the SQLite executor stores them as 0/1 and ISO text.
 * Count tables and columns kept by triggers are left out: only hand-written SQL touches them.
 */
export interface Database {
  accounts: { sid: string; auth_token: string; date_created: Date; date_updated: Date };
  workspaces: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    friendly_name: string;
    event_callback_url: string | null;
    events_filter: string | null;
    multi_task_enabled: boolean;
    prioritize_queue_order: string;
    default_activity_sid: string;
    timeout_activity_sid: string;
    date_created: Date;
    date_updated: Date;
  };
  activities: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    friendly_name: string;
    name_key: string;
    available: boolean;
    date_created: Date;
    date_updated: Date;
  };
  task_channels: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    unique_name: string;
    friendly_name: string;
    channel_optimized_routing: boolean;
    date_created: Date;
    date_updated: Date;
  };
  workers: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    friendly_name: string;
    name_key: string;
    activity_sid: string;
    attributes: string;
    version: number;
    date_created: Date;
    date_updated: Date;
    date_status_changed: Date;
  };
  /** Only worker channels that differ from the defaults (see migration 008). */
  worker_channels: {
    worker_sid: string;
    task_channel_sid: string;
    capacity: number;
    available: boolean;
    assigned_tasks: number;
    date_updated: Date;
  };
  task_queues: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    friendly_name: string;
    name_key: string;
    target_workers: string;
    reads_worker_fields: boolean;
    max_reserved_workers: number;
    task_order: string;
    reservation_activity_sid: string | null;
    assignment_activity_sid: string | null;
    date_created: Date;
    date_updated: Date;
  };
  task_queue_members: { queue_id: number; worker_id: number };
  /** Live tasks per scope (workspace, queue or workflow SID), channel, status and priority (migration 012). */
  task_counts: {
    scope_sid: string;
    task_channel_sid: string;
    assignment_status: string;
    priority: number;
    tasks: number;
  };
  /** A queue's members per activity (migration 012). */
  queue_activity_counts: { queue_id: number; activity_sid: string; workers: number };
  workflows: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    friendly_name: string;
    name_key: string;
    configuration: string;
    assignment_callback_url: string | null;
    fallback_assignment_callback_url: string | null;
    task_reservation_timeout: number;
    date_created: Date;
    date_updated: Date;
  };
  tasks: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    attributes: string;
    assignment_status: string;
    requested_priority: number;
    priority: number;
    reason: string | null;
    timeout: number;
    workflow_sid: string | null;
    task_queue_sid: string | null;
    task_channel_sid: string;
    routing_target: string | null;
    ignore_capacity: boolean | null;
    created_ms: number;
    virtual_start_ms: number;
    queue_entered_ms: number | null;
    filter_index: number;
    step_index: number;
    version: number;
    date_created: Date;
    date_updated: Date;
  };
  reservations: {
    id: Generated<number>;
    sid: string;
    account_sid: string;
    workspace_sid: string;
    task_sid: string;
    worker_sid: string;
    worker_name: string;
    task_channel_sid: string;
    reservation_status: string;
    instruction: string | null;
    version: number;
    date_created: Date;
    date_updated: Date;
  };
  /** Kept by migration 016's triggers: routing walks it, never writes it. */
  routing_candidates: {
    queue_id: number;
    worker_id: number;
    worker_sid: string;
    available: boolean;
    status_ms: number;
    freed_ms: number;
    idle_ms: number;
  };
  worker_loads: {
    worker_sid: string;
    task_channel_sid: string;
    workspace_sid: string;
    reserved: number;
    assigned: number;
    freed_ms: number;
  };
  channel_activity_unavailable: { task_channel_sid: string; activity_sid: string };
  reclaims: { id: Generated<number>; kind: string; sid: string };
  timers: {
    id: Generated<number>;
    workspace_sid: string;
    kind: string;
    resource_sid: string;
    due_at_ms: number;
  };
  events: {
    id: Generated<number>;
    account_sid: string;
    workspace_sid: string;
    type: string;
    resource_type: string;
    resource_sid: string;
    actor: string;
    time_ms: number;
    data: string;
    sid: string | null;
    source_ip: string | null;
    task_sid: string | null;
    reservation_sid: string | null;
    worker_sid: string | null;
    task_queue_sid: string | null;
    workflow_sid: string | null;
    task_channel_sid: string | null;
  };
  event_deliveries: {
    event_id: number;
    workspace_sid: string;
    url: string;
    state: string;
    attempts: Generated<number>;
    first_attempt_ms: number | null;
    next_attempt_ms: number;
    leased_until_ms: Generated<number>;
    last_status: number | null;
    last_error: string | null;
  };
}

/**
 * Kysely as a query builder only: queries are compiled here and run by each store on its own
 * connections, so SQLite keeps its group commit and prepared statements and PostgreSQL its
 * transactions and retries (Kysely's drivers would bring transactions of their own).
 */
export function queryBuilder(dialect: 'sqlite' | 'postgres'): Kysely<Database> {
  return new Kysely<Database>({
    dialect:
      dialect === 'sqlite'
        ? {
            createAdapter: () => new SqliteAdapter(),
            createDriver: () => new DummyDriver(),
            createIntrospector: (db) => new SqliteIntrospector(db),
            createQueryCompiler: () => new SqliteQueryCompiler(),
          }
        : {
            createAdapter: () => new PostgresAdapter(),
            createDriver: () => new DummyDriver(),
            createIntrospector: (db) => new PostgresIntrospector(db),
            createQueryCompiler: () => new PostgresQueryCompiler(),
          },
  });
}
