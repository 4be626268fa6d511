-- Roster's PostgreSQL schema: the same tables as the SQLite one, paged by their bigint id
-- (creation order). Several nodes share it, so worker counts live in sharded rows: each
-- write adds to the slot of its own connection (pg_backend_pid() % 16) and reads sum the
-- slots, so concurrent writes from many connections rarely wait on one another's counter
-- row. The triggers below keep the counts in the same transaction as the write.

CREATE TABLE accounts (
  sid text PRIMARY KEY,
  auth_token text NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);

CREATE TABLE workspaces (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  friendly_name text NOT NULL,
  event_callback_url text,
  events_filter text,
  multi_task_enabled boolean NOT NULL,
  prioritize_queue_order text NOT NULL,
  default_activity_sid text NOT NULL,
  timeout_activity_sid text NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE INDEX workspaces_by_account ON workspaces (account_sid, id);

CREATE TABLE activities (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  friendly_name text NOT NULL,
  name_key text NOT NULL,
  available boolean NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE UNIQUE INDEX activities_by_name ON activities (workspace_sid, name_key);
CREATE INDEX activities_by_workspace ON activities (workspace_sid, id);

CREATE TABLE task_channels (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  unique_name text NOT NULL,
  friendly_name text NOT NULL,
  channel_optimized_routing boolean NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE UNIQUE INDEX task_channels_by_unique_name ON task_channels (workspace_sid, unique_name);
CREATE INDEX task_channels_by_workspace ON task_channels (workspace_sid, id);

-- The foreign key makes deleting an activity that a concurrent write just moved a worker
-- into fail (and roll back) instead of leaving the worker in a missing activity.
CREATE TABLE workers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  friendly_name text NOT NULL,
  name_key text NOT NULL,
  activity_sid text NOT NULL REFERENCES activities (sid),
  attributes text NOT NULL,
  version integer NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL,
  date_status_changed timestamptz NOT NULL
);
CREATE UNIQUE INDEX workers_by_name ON workers (workspace_sid, name_key);
CREATE INDEX workers_by_workspace ON workers (workspace_sid, id);
CREATE INDEX workers_by_activity ON workers (activity_sid, id);

CREATE TABLE worker_channels (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  worker_sid text NOT NULL,
  task_channel_sid text NOT NULL,
  capacity integer NOT NULL,
  available boolean NOT NULL,
  assigned_tasks integer NOT NULL DEFAULT 0,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE UNIQUE INDEX worker_channels_by_worker ON worker_channels (worker_sid, task_channel_sid);
CREATE INDEX worker_channels_by_sid ON worker_channels (sid);
CREATE INDEX worker_channels_by_task_channel ON worker_channels (task_channel_sid);

-- Workers per activity: the sum over the slots. Rows appear on first use.
CREATE TABLE activity_counts (
  activity_sid text NOT NULL,
  slot smallint NOT NULL,
  workers integer NOT NULL,
  PRIMARY KEY (activity_sid, slot)
);

-- Workers per (task channel, activity) whose worker channel is available with capacity > 0.
CREATE TABLE channel_activity_counts (
  task_channel_sid text NOT NULL,
  activity_sid text NOT NULL,
  slot smallint NOT NULL,
  workers integer NOT NULL,
  PRIMARY KEY (task_channel_sid, activity_sid, slot)
);

CREATE FUNCTION roster_count_slot() RETURNS smallint LANGUAGE sql VOLATILE AS
$$ SELECT (pg_backend_pid() % 16)::smallint $$;

CREATE FUNCTION roster_add_activity_count(p_activity text, p_delta integer) RETURNS void
LANGUAGE sql VOLATILE AS $$
  INSERT INTO activity_counts (activity_sid, slot, workers) VALUES (p_activity, roster_count_slot(), p_delta)
  ON CONFLICT (activity_sid, slot) DO UPDATE SET workers = activity_counts.workers + EXCLUDED.workers
$$;

CREATE FUNCTION roster_add_channel_count(p_channel text, p_activity text, p_delta integer) RETURNS void
LANGUAGE sql VOLATILE AS $$
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, slot, workers)
  VALUES (p_channel, p_activity, roster_count_slot(), p_delta)
  ON CONFLICT (task_channel_sid, activity_sid, slot)
  DO UPDATE SET workers = channel_activity_counts.workers + EXCLUDED.workers
$$;

CREATE FUNCTION roster_workers_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM roster_add_activity_count(NEW.activity_sid, 1);
  RETURN NULL;
END $$;
CREATE TRIGGER workers_count_insert AFTER INSERT ON workers
  FOR EACH ROW EXECUTE FUNCTION roster_workers_insert();

-- The worker's channels go too; their own trigger no longer finds the worker, so their
-- counts are taken off here, with the activity the worker had.
CREATE FUNCTION roster_workers_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  PERFORM roster_add_activity_count(OLD.activity_sid, -1);
  FOR c IN DELETE FROM worker_channels WHERE worker_sid = OLD.sid RETURNING task_channel_sid, available, capacity LOOP
    IF c.available AND c.capacity > 0 THEN
      PERFORM roster_add_channel_count(c.task_channel_sid, OLD.activity_sid, -1);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER workers_count_delete AFTER DELETE ON workers
  FOR EACH ROW EXECUTE FUNCTION roster_workers_delete();

-- Under READ COMMITTED, OLD is the newest committed version of the row (PostgreSQL
-- re-reads a concurrently updated row before updating it), so moves never double-count.
CREATE FUNCTION roster_workers_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  PERFORM roster_add_activity_count(OLD.activity_sid, -1);
  PERFORM roster_add_activity_count(NEW.activity_sid, 1);
  FOR c IN SELECT task_channel_sid FROM worker_channels
            WHERE worker_sid = NEW.sid AND available AND capacity > 0 LOOP
    PERFORM roster_add_channel_count(c.task_channel_sid, OLD.activity_sid, -1);
    PERFORM roster_add_channel_count(c.task_channel_sid, NEW.activity_sid, 1);
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER workers_count_move AFTER UPDATE OF activity_sid ON workers
  FOR EACH ROW WHEN (OLD.activity_sid IS DISTINCT FROM NEW.activity_sid)
  EXECUTE FUNCTION roster_workers_move();

-- Channel changes lock the worker row (FOR SHARE) before reading its activity: a
-- concurrent activity move then either finishes first (and the newest activity is read)
-- or waits for this transaction (and then sees this channel's new state).
CREATE FUNCTION roster_worker_channels_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was boolean := TG_OP <> 'INSERT' AND OLD.available AND OLD.capacity > 0;
  now_counted boolean := TG_OP <> 'DELETE' AND NEW.available AND NEW.capacity > 0;
  worker_sid_ text := CASE WHEN TG_OP = 'DELETE' THEN OLD.worker_sid ELSE NEW.worker_sid END;
  channel_sid_ text := CASE WHEN TG_OP = 'DELETE' THEN OLD.task_channel_sid ELSE NEW.task_channel_sid END;
  activity text;
BEGIN
  IF was = now_counted THEN RETURN NULL; END IF;
  SELECT activity_sid INTO activity FROM workers WHERE sid = worker_sid_ FOR SHARE;
  IF activity IS NULL THEN RETURN NULL; END IF;
  PERFORM roster_add_channel_count(channel_sid_, activity, CASE WHEN now_counted THEN 1 ELSE -1 END);
  RETURN NULL;
END $$;
CREATE TRIGGER worker_channels_count_insert AFTER INSERT ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
CREATE TRIGGER worker_channels_count_delete AFTER DELETE ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
CREATE TRIGGER worker_channels_count_update AFTER UPDATE OF available, capacity ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
