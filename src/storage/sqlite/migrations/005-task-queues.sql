-- TaskQueues, and which workers belong to each (materialised): a worker's membership rows
-- change in the transaction that changes the worker or the queue, so reads never evaluate
-- expressions. `reads_worker_fields` marks queues whose TargetWorkers reads friendly_name,
-- activity_sid or activity_name: only those are re-evaluated when a worker changes activity
-- or name, or an activity is renamed.
CREATE TABLE task_queues (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  target_workers TEXT NOT NULL,
  reads_worker_fields INTEGER NOT NULL,
  max_reserved_workers INTEGER NOT NULL,
  task_order TEXT NOT NULL,
  reservation_activity_sid TEXT,
  assignment_activity_sid TEXT,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE UNIQUE INDEX task_queues_by_name ON task_queues (workspace_sid, name_key);
CREATE INDEX task_queues_by_workspace ON task_queues (workspace_sid, id);

-- Two integers a row (the queue's and the worker's row ids), so that a million workers in
-- many queues stay small; keyed so that a queue's members page in the workers' own order.
CREATE TABLE task_queue_members (
  queue_id INTEGER NOT NULL,
  worker_id INTEGER NOT NULL,
  PRIMARY KEY (queue_id, worker_id)
) WITHOUT ROWID;
CREATE INDEX task_queue_members_by_worker ON task_queue_members (worker_id, queue_id);
