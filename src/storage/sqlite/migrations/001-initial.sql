-- Roster's embedded schema. Every table pages by its integer id (creation order).
-- Worker counts are kept by the triggers below, in the same transaction as the write
-- that changes them, so statistics are exact at every read and cost O(activities).

CREATE TABLE accounts (
  sid TEXT PRIMARY KEY,
  auth_token TEXT NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);

CREATE TABLE workspaces (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  event_callback_url TEXT,
  events_filter TEXT,
  multi_task_enabled INTEGER NOT NULL,
  prioritize_queue_order TEXT NOT NULL,
  default_activity_sid TEXT NOT NULL,
  timeout_activity_sid TEXT NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE INDEX workspaces_by_account ON workspaces (account_sid, id);

CREATE TABLE activities (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  available INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL,
  -- live number of workers in this activity
  workers INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX activities_by_name ON activities (workspace_sid, name_key);
CREATE INDEX activities_by_workspace ON activities (workspace_sid, id);

CREATE TABLE task_channels (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  unique_name TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  channel_optimized_routing INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE UNIQUE INDEX task_channels_by_unique_name ON task_channels (workspace_sid, unique_name);

CREATE TABLE workers (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  activity_sid TEXT NOT NULL,
  attributes TEXT NOT NULL,
  version INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL,
  date_status_changed TEXT NOT NULL
);
CREATE UNIQUE INDEX workers_by_name ON workers (workspace_sid, name_key);
CREATE INDEX workers_by_workspace ON workers (workspace_sid, id);
CREATE INDEX workers_by_activity ON workers (activity_sid, id);

CREATE TABLE worker_channels (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  worker_sid TEXT NOT NULL,
  task_channel_sid TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  available INTEGER NOT NULL,
  assigned_tasks INTEGER NOT NULL DEFAULT 0,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE UNIQUE INDEX worker_channels_by_worker ON worker_channels (worker_sid, task_channel_sid);
CREATE INDEX worker_channels_by_task_channel ON worker_channels (task_channel_sid);

-- Workers per (task channel, activity) whose worker channel is available with capacity > 0.
-- Rows appear on first use; a missing row means zero.
CREATE TABLE channel_activity_counts (
  task_channel_sid TEXT NOT NULL,
  activity_sid TEXT NOT NULL,
  workers INTEGER NOT NULL,
  PRIMARY KEY (task_channel_sid, activity_sid)
) WITHOUT ROWID;

CREATE TRIGGER workers_count_insert AFTER INSERT ON workers BEGIN
  UPDATE activities SET workers = workers + 1 WHERE sid = NEW.activity_sid;
END;

-- Channels go first, while the worker's activity can still be read.
CREATE TRIGGER workers_count_delete BEFORE DELETE ON workers BEGIN
  DELETE FROM worker_channels WHERE worker_sid = OLD.sid;
  UPDATE activities SET workers = workers - 1 WHERE sid = OLD.activity_sid;
END;

CREATE TRIGGER workers_count_move AFTER UPDATE OF activity_sid ON workers
WHEN OLD.activity_sid <> NEW.activity_sid BEGIN
  UPDATE activities SET workers = workers - 1 WHERE sid = OLD.activity_sid;
  UPDATE activities SET workers = workers + 1 WHERE sid = NEW.activity_sid;
  UPDATE channel_activity_counts SET workers = workers - 1
   WHERE activity_sid = OLD.activity_sid
     AND task_channel_sid IN (SELECT task_channel_sid FROM worker_channels
                               WHERE worker_sid = NEW.sid AND available = 1 AND capacity > 0);
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, workers)
    SELECT task_channel_sid, NEW.activity_sid, 1 FROM worker_channels
     WHERE worker_sid = NEW.sid AND available = 1 AND capacity > 0
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_insert AFTER INSERT ON worker_channels
WHEN NEW.available = 1 AND NEW.capacity > 0 BEGIN
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, workers)
    SELECT NEW.task_channel_sid, activity_sid, 1 FROM workers WHERE sid = NEW.worker_sid
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_delete AFTER DELETE ON worker_channels
WHEN OLD.available = 1 AND OLD.capacity > 0 BEGIN
  UPDATE channel_activity_counts SET workers = workers - 1
   WHERE task_channel_sid = OLD.task_channel_sid
     AND activity_sid = (SELECT activity_sid FROM workers WHERE sid = OLD.worker_sid);
END;

CREATE TRIGGER worker_channels_count_gain AFTER UPDATE OF available, capacity ON worker_channels
WHEN NOT (OLD.available = 1 AND OLD.capacity > 0) AND (NEW.available = 1 AND NEW.capacity > 0) BEGIN
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, workers)
    SELECT NEW.task_channel_sid, activity_sid, 1 FROM workers WHERE sid = NEW.worker_sid
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_loss AFTER UPDATE OF available, capacity ON worker_channels
WHEN (OLD.available = 1 AND OLD.capacity > 0) AND NOT (NEW.available = 1 AND NEW.capacity > 0) BEGIN
  UPDATE channel_activity_counts SET workers = workers - 1
   WHERE task_channel_sid = NEW.task_channel_sid
     AND activity_sid = (SELECT activity_sid FROM workers WHERE sid = NEW.worker_sid);
END;
