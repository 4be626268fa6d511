-- Real-time statistics of tasks and of queues' workers, kept by triggers in the same
-- transaction as each change (like the worker counts of 001/008), so that the Workspace,
-- TaskQueue and Workflow RealTimeStatistics read count rows, never tasks or workers.
--
-- task_counts: live tasks (pending, reserved, assigned, wrapping) per scope (the workspace, the
-- task queue and the workflow of each task: SIDs differ by prefix, so one table holds all three),
-- task channel, status and priority. A read sums a scope's rows: O(channels x statuses x
-- priorities in use), whatever the number of tasks. Rows appear on first use and stay at zero.
CREATE TABLE task_counts (
  scope_sid TEXT NOT NULL,
  task_channel_sid TEXT NOT NULL,
  assignment_status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  tasks INTEGER NOT NULL,
  PRIMARY KEY (scope_sid, task_channel_sid, assignment_status, priority)
) WITHOUT ROWID;

INSERT INTO task_counts
  SELECT scope_sid, task_channel_sid, assignment_status, priority, count(*) FROM (
    SELECT workspace_sid AS scope_sid, task_channel_sid, assignment_status, priority FROM tasks
    UNION ALL SELECT task_queue_sid, task_channel_sid, assignment_status, priority FROM tasks
    UNION ALL SELECT workflow_sid, task_channel_sid, assignment_status, priority FROM tasks
  ) WHERE scope_sid IS NOT NULL AND assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
  GROUP BY 1, 2, 3, 4;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
WHEN NEW.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping') BEGIN
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.workspace_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1 WHERE true
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.task_queue_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
     WHERE NEW.task_queue_sid IS NOT NULL
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.workflow_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
     WHERE NEW.workflow_sid IS NOT NULL
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
END;

CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
WHEN OLD.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping') BEGIN
  UPDATE task_counts SET tasks = tasks - 1
   WHERE scope_sid IN (OLD.workspace_sid, OLD.task_queue_sid, OLD.workflow_sid)
     AND task_channel_sid = OLD.task_channel_sid AND assignment_status = OLD.assignment_status
     AND priority = OLD.priority;
END;

-- Out of the old key (when it was live), into the new one (when it is).
CREATE TRIGGER tasks_count_update
AFTER UPDATE OF assignment_status, priority, task_queue_sid, task_channel_sid, workflow_sid ON tasks
WHEN OLD.assignment_status IS NOT NEW.assignment_status OR OLD.priority IS NOT NEW.priority
  OR OLD.task_queue_sid IS NOT NEW.task_queue_sid OR OLD.task_channel_sid IS NOT NEW.task_channel_sid
  OR OLD.workflow_sid IS NOT NEW.workflow_sid BEGIN
  UPDATE task_counts SET tasks = tasks - 1
   WHERE OLD.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
     AND scope_sid IN (OLD.workspace_sid, OLD.task_queue_sid, OLD.workflow_sid)
     AND task_channel_sid = OLD.task_channel_sid AND assignment_status = OLD.assignment_status
     AND priority = OLD.priority;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.workspace_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
     WHERE NEW.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.task_queue_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
     WHERE NEW.task_queue_sid IS NOT NULL
       AND NEW.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, tasks)
    SELECT NEW.workflow_sid, NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
     WHERE NEW.workflow_sid IS NOT NULL
       AND NEW.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
    ON CONFLICT DO UPDATE SET tasks = tasks + 1;
END;

-- The longest waiting task (pending or reserved) of a scope and task channel is the first entry
-- of one of these: by creation (workspace, queue, workflow) and by entry into the queue. Only
-- waiting tasks are in them, so they stay as small as the waiting work.
CREATE INDEX tasks_waiting_in_workspace ON tasks (workspace_sid, task_channel_sid, created_ms, id)
  WHERE assignment_status IN ('pending', 'reserved');
CREATE INDEX tasks_waiting_in_queue ON tasks (task_queue_sid, task_channel_sid, created_ms, id)
  WHERE assignment_status IN ('pending', 'reserved');
CREATE INDEX tasks_waiting_in_queue_since ON tasks (task_queue_sid, task_channel_sid, queue_entered_ms, id)
  WHERE assignment_status IN ('pending', 'reserved');
CREATE INDEX tasks_waiting_in_workflow ON tasks (workflow_sid, task_channel_sid, created_ms, id)
  WHERE assignment_status IN ('pending', 'reserved');

-- queue_activity_counts: a queue's members per activity. Kept by the members' triggers and by a
-- worker's move (one upsert per queue it is in, out of the old activity and into the new).
CREATE TABLE queue_activity_counts (
  queue_id INTEGER NOT NULL,
  activity_sid TEXT NOT NULL,
  workers INTEGER NOT NULL,
  PRIMARY KEY (queue_id, activity_sid)
) WITHOUT ROWID;

INSERT INTO queue_activity_counts
  SELECT m.queue_id, k.activity_sid, count(*)
    FROM task_queue_members m JOIN workers k ON k.id = m.worker_id
   GROUP BY m.queue_id, k.activity_sid;

CREATE TRIGGER task_queue_members_count_insert AFTER INSERT ON task_queue_members BEGIN
  INSERT INTO queue_activity_counts (queue_id, activity_sid, workers)
    SELECT NEW.queue_id, activity_sid, 1 FROM workers WHERE id = NEW.worker_id
    ON CONFLICT DO UPDATE SET workers = workers + 1;
END;

-- Members always go before their worker (deleteWorker, the reclaimer), so its activity is there.
CREATE TRIGGER task_queue_members_count_delete AFTER DELETE ON task_queue_members BEGIN
  UPDATE queue_activity_counts SET workers = workers - 1
   WHERE queue_id = OLD.queue_id
     AND activity_sid = (SELECT activity_sid FROM workers WHERE id = OLD.worker_id);
END;

-- One upsert per queue the worker is in, for both activities (rather than `IN (subquery)`, see 002).
CREATE TRIGGER workers_queue_count_move AFTER UPDATE OF activity_sid ON workers
WHEN OLD.activity_sid <> NEW.activity_sid BEGIN
  INSERT INTO queue_activity_counts (queue_id, activity_sid, workers)
    SELECT m.queue_id, d.activity_sid, d.delta
      FROM task_queue_members m
      JOIN (SELECT OLD.activity_sid AS activity_sid, -1 AS delta
            UNION ALL SELECT NEW.activity_sid, 1) d
     WHERE m.worker_id = NEW.id
    ON CONFLICT DO UPDATE SET workers = workers + excluded.workers;
END;

-- A scope's rows go with it.
CREATE TRIGGER task_queues_counts_delete AFTER DELETE ON task_queues BEGIN
  DELETE FROM queue_activity_counts WHERE queue_id = OLD.id;
  DELETE FROM task_counts WHERE scope_sid = OLD.sid;
END;
CREATE TRIGGER workflows_counts_delete AFTER DELETE ON workflows BEGIN
  DELETE FROM task_counts WHERE scope_sid = OLD.sid;
END;
CREATE TRIGGER workspaces_counts_delete AFTER DELETE ON workspaces BEGIN
  DELETE FROM task_counts WHERE scope_sid = OLD.sid;
END;
