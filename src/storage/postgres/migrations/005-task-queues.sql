-- TaskQueues, and which workers belong to each (materialised): a worker's membership rows
-- change in the transaction that changes the worker or the queue, so reads never evaluate
-- expressions. `reads_worker_fields` marks queues whose TargetWorkers reads friendly_name,
-- activity_sid or activity_name: only those are re-evaluated when a worker changes activity
-- or name, or an activity is renamed. Writers of membership hold the workspace's advisory
-- lock (shared for one worker, exclusive for a whole queue), so both never miss each other.
CREATE TABLE task_queues (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  friendly_name text NOT NULL,
  name_key text NOT NULL,
  target_workers text NOT NULL,
  reads_worker_fields boolean NOT NULL,
  max_reserved_workers integer NOT NULL,
  task_order text NOT NULL,
  reservation_activity_sid text,
  assignment_activity_sid text,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE UNIQUE INDEX task_queues_by_name ON task_queues (workspace_sid, name_key);
CREATE INDEX task_queues_by_workspace ON task_queues (workspace_sid, id);

-- Two integers a row (the queue's and the worker's row ids), so that a million workers in
-- many queues stay small; keyed so that a queue's members page in the workers' own order.
CREATE TABLE task_queue_members (
  queue_id bigint NOT NULL,
  worker_id bigint NOT NULL,
  PRIMARY KEY (queue_id, worker_id)
);
CREATE INDEX task_queue_members_by_worker ON task_queue_members (worker_id, queue_id);
