-- Routing: tasks, their reservations, and routing's own count of each worker's tasks per task
-- channel (kept apart from worker_channels, which keep what the API sets). Times that routing
-- computes with (age, TTL, step timeouts, queue order) are kept in ms beside the whole-second dates.
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  attributes TEXT NOT NULL,
  assignment_status TEXT NOT NULL,
  requested_priority INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  reason TEXT,
  timeout INTEGER NOT NULL,
  workflow_sid TEXT,
  task_queue_sid TEXT,
  task_channel_sid TEXT NOT NULL,
  routing_target TEXT,
  ignore_capacity INTEGER,
  created_ms INTEGER NOT NULL,
  virtual_start_ms INTEGER NOT NULL,
  queue_entered_ms INTEGER,
  filter_index INTEGER NOT NULL,
  step_index INTEGER NOT NULL,
  version INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE INDEX tasks_by_workspace ON tasks (workspace_sid, id);
CREATE INDEX tasks_waiting ON tasks (task_queue_sid, assignment_status);
CREATE INDEX tasks_by_status ON tasks (workspace_sid, assignment_status);
CREATE INDEX tasks_by_workflow ON tasks (workflow_sid, assignment_status);

CREATE TABLE reservations (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  task_sid TEXT NOT NULL,
  worker_sid TEXT NOT NULL,
  worker_name TEXT NOT NULL,
  task_channel_sid TEXT NOT NULL,
  reservation_status TEXT NOT NULL,
  instruction TEXT,
  version INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE INDEX reservations_by_task ON reservations (task_sid, id);
CREATE INDEX reservations_by_worker ON reservations (worker_sid, id);
CREATE INDEX reservations_by_workspace ON reservations (workspace_sid);

CREATE TABLE worker_loads (
  worker_sid TEXT NOT NULL,
  task_channel_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  reserved INTEGER NOT NULL,
  assigned INTEGER NOT NULL,
  freed_ms INTEGER NOT NULL,
  PRIMARY KEY (worker_sid, task_channel_sid)
) WITHOUT ROWID;
CREATE INDEX worker_loads_by_workspace ON worker_loads (workspace_sid);
