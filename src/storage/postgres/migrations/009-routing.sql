-- Routing: tasks, their reservations, and routing's own count of each worker's tasks per task
-- channel (kept apart from worker_channels, which keep what the API sets). Times that routing
-- computes with (age, TTL, step timeouts, queue order) are kept in ms beside the whole-second dates.
CREATE TABLE tasks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  attributes text NOT NULL,
  assignment_status text NOT NULL,
  requested_priority integer NOT NULL,
  priority integer NOT NULL,
  reason text,
  timeout integer NOT NULL,
  workflow_sid text,
  task_queue_sid text,
  task_channel_sid text NOT NULL,
  routing_target text,
  ignore_capacity boolean,
  created_ms bigint NOT NULL,
  virtual_start_ms bigint NOT NULL,
  queue_entered_ms bigint,
  filter_index integer NOT NULL,
  step_index integer NOT NULL,
  version integer NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE INDEX tasks_by_workspace ON tasks (workspace_sid, id);
CREATE INDEX tasks_waiting ON tasks (task_queue_sid, assignment_status);
CREATE INDEX tasks_by_status ON tasks (workspace_sid, assignment_status);
CREATE INDEX tasks_by_workflow ON tasks (workflow_sid, assignment_status);

CREATE TABLE reservations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  task_sid text NOT NULL,
  worker_sid text NOT NULL,
  worker_name text NOT NULL,
  task_channel_sid text NOT NULL,
  reservation_status text NOT NULL,
  instruction text,
  version integer NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE INDEX reservations_by_task ON reservations (task_sid, id);
CREATE INDEX reservations_by_worker ON reservations (worker_sid, id);
CREATE INDEX reservations_by_workspace ON reservations (workspace_sid);

CREATE TABLE worker_loads (
  worker_sid text NOT NULL,
  task_channel_sid text NOT NULL,
  workspace_sid text NOT NULL,
  reserved integer NOT NULL,
  assigned integer NOT NULL,
  freed_ms bigint NOT NULL,
  PRIMARY KEY (worker_sid, task_channel_sid)
);
CREATE INDEX worker_loads_by_workspace ON worker_loads (workspace_sid);
