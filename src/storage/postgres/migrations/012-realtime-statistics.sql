-- Real-time statistics of tasks and of queues' workers, kept by triggers in the same
-- transaction as each change, in sharded rows like the worker counts (001): each write adds to
-- its connection's slot (roster_count_slot) and reads sum the slots. The Workspace, TaskQueue and
-- Workflow RealTimeStatistics then read count rows, never tasks or workers.
--
-- task_counts: live tasks (pending, reserved, assigned, wrapping) per scope (the workspace, the
-- task queue and the workflow of each task: SIDs differ by prefix, so one table holds all three),
-- task channel, status and priority. Rows appear on first use and stay at zero.
CREATE TABLE task_counts (
  scope_sid text NOT NULL,
  task_channel_sid text NOT NULL,
  assignment_status text NOT NULL,
  priority integer NOT NULL,
  slot smallint NOT NULL,
  tasks integer NOT NULL,
  PRIMARY KEY (scope_sid, task_channel_sid, assignment_status, priority, slot)
);

INSERT INTO task_counts
  SELECT s.scope_sid, t.task_channel_sid, t.assignment_status, t.priority, 0, count(*)
    FROM tasks t CROSS JOIN LATERAL unnest(ARRAY[t.workspace_sid, t.task_queue_sid, t.workflow_sid]) AS s(scope_sid)
   WHERE s.scope_sid IS NOT NULL AND t.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping')
   GROUP BY 1, 2, 3, 4;

-- One statement per change: the old key's rows -1 (when it was live), the new key's +1 (when it
-- is), equal keys netted out, counter rows locked in key order (see 002).
CREATE FUNCTION roster_tasks_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_live boolean := TG_OP <> 'INSERT' AND OLD.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping');
  new_live boolean := TG_OP <> 'DELETE' AND NEW.assignment_status IN ('pending', 'reserved', 'assigned', 'wrapping');
BEGIN
  IF NOT old_live AND NOT new_live THEN RETURN NULL; END IF;
  INSERT INTO task_counts (scope_sid, task_channel_sid, assignment_status, priority, slot, tasks)
  SELECT d.scope_sid, d.channel, d.status, d.priority, roster_count_slot(), sum(d.delta)::int
    FROM (
      SELECT unnest(ARRAY[OLD.workspace_sid, OLD.task_queue_sid, OLD.workflow_sid]) AS scope_sid,
             OLD.task_channel_sid AS channel, OLD.assignment_status AS status, OLD.priority AS priority, -1 AS delta
       WHERE old_live
      UNION ALL
      SELECT unnest(ARRAY[NEW.workspace_sid, NEW.task_queue_sid, NEW.workflow_sid]),
             NEW.task_channel_sid, NEW.assignment_status, NEW.priority, 1
       WHERE new_live
    ) d
   WHERE d.scope_sid IS NOT NULL
   GROUP BY 1, 2, 3, 4
  HAVING sum(d.delta) <> 0
   ORDER BY 1, 2, 3, 4
  ON CONFLICT (scope_sid, task_channel_sid, assignment_status, priority, slot)
  DO UPDATE SET tasks = task_counts.tasks + EXCLUDED.tasks;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
  FOR EACH ROW EXECUTE FUNCTION roster_tasks_count();
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION roster_tasks_count();
CREATE TRIGGER tasks_count_update
  AFTER UPDATE OF assignment_status, priority, task_queue_sid, task_channel_sid, workflow_sid ON tasks
  FOR EACH ROW WHEN (OLD.assignment_status IS DISTINCT FROM NEW.assignment_status
    OR OLD.priority IS DISTINCT FROM NEW.priority OR OLD.task_queue_sid IS DISTINCT FROM NEW.task_queue_sid
    OR OLD.task_channel_sid IS DISTINCT FROM NEW.task_channel_sid OR OLD.workflow_sid IS DISTINCT FROM NEW.workflow_sid)
  EXECUTE FUNCTION roster_tasks_count();

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

-- queue_activity_counts: a queue's members per activity (summed over slots).
CREATE TABLE queue_activity_counts (
  queue_id bigint NOT NULL,
  activity_sid text NOT NULL,
  slot smallint NOT NULL,
  workers integer NOT NULL,
  PRIMARY KEY (queue_id, activity_sid, slot)
);

INSERT INTO queue_activity_counts
  SELECT m.queue_id, k.activity_sid, 0, count(*)
    FROM task_queue_members m JOIN workers k ON k.id = m.worker_id
   GROUP BY m.queue_id, k.activity_sid;

-- Members come and go by the statement (a queue's pass adds thousands at once): one upsert per
-- (queue, activity) a statement touches, with the activity each worker has when it is read.
--
-- A member row is written either by a transaction that holds its worker's row (the worker's own
-- create, update or delete) or by one that holds the workspace's membership lock exclusively (a
-- queue's pass: `holdWorkspace(…, 'exclusive')`, an advisory lock). A worker's move holds its row
-- and takes that lock shared (below) before it shifts its memberships, so a move and a pass never
-- cross: whichever commits second sees the other's work (READ COMMITTED reads anew per statement).
-- (Locking the workers FOR SHARE here instead deadlocks a pass against a worker's update, which
-- holds the worker's row and then asks for the membership lock.)
CREATE FUNCTION roster_members_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
BEGIN
  INSERT INTO queue_activity_counts (queue_id, activity_sid, slot, workers)
  SELECT m.queue_id, k.activity_sid, roster_count_slot(), sign * count(*)::int
    FROM changed_members m JOIN workers k ON k.id = m.worker_id
   GROUP BY 1, 2
   ORDER BY 1, 2
  ON CONFLICT (queue_id, activity_sid, slot)
  DO UPDATE SET workers = queue_activity_counts.workers + EXCLUDED.workers;
  RETURN NULL;
END $$;
CREATE TRIGGER task_queue_members_count_insert AFTER INSERT ON task_queue_members
  REFERENCING NEW TABLE AS changed_members
  FOR EACH STATEMENT EXECUTE FUNCTION roster_members_count();
CREATE TRIGGER task_queue_members_count_delete AFTER DELETE ON task_queue_members
  REFERENCING OLD TABLE AS changed_members
  FOR EACH STATEMENT EXECUTE FUNCTION roster_members_count();

-- A worker's move: out of the old activity and into the new one, for each queue it is in, after
-- any pass under way in the workspace (see roster_members_count).
CREATE FUNCTION roster_workers_move_queues() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext(NEW.workspace_sid));
  INSERT INTO queue_activity_counts (queue_id, activity_sid, slot, workers)
  SELECT m.queue_id, a.activity_sid, roster_count_slot(), a.delta
    FROM task_queue_members m
   CROSS JOIN (VALUES (OLD.activity_sid, -1), (NEW.activity_sid, 1)) AS a(activity_sid, delta)
   WHERE m.worker_id = NEW.id
   ORDER BY 1, 2
  ON CONFLICT (queue_id, activity_sid, slot)
  DO UPDATE SET workers = queue_activity_counts.workers + EXCLUDED.workers;
  RETURN NULL;
END $$;
CREATE TRIGGER workers_queue_count_move AFTER UPDATE OF activity_sid ON workers
  FOR EACH ROW WHEN (OLD.activity_sid IS DISTINCT FROM NEW.activity_sid)
  EXECUTE FUNCTION roster_workers_move_queues();

-- A scope's rows go with it.
CREATE FUNCTION roster_scope_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'task_queues' THEN
    DELETE FROM queue_activity_counts WHERE queue_id = OLD.id;
  END IF;
  DELETE FROM task_counts WHERE scope_sid = OLD.sid;
  RETURN NULL;
END $$;
CREATE TRIGGER task_queues_counts_delete AFTER DELETE ON task_queues
  FOR EACH ROW EXECUTE FUNCTION roster_scope_counts_delete();
CREATE TRIGGER workflows_counts_delete AFTER DELETE ON workflows
  FOR EACH ROW EXECUTE FUNCTION roster_scope_counts_delete();
CREATE TRIGGER workspaces_counts_delete AFTER DELETE ON workspaces
  FOR EACH ROW EXECUTE FUNCTION roster_scope_counts_delete();
