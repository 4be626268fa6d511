-- Worker channels are stored only where they deviate from the default (DEFAULT_WORKER_CHANNEL:
-- capacity 1, available, no assigned tasks); a worker channel without a row has the default,
-- so creating a task channel writes no row per worker. A worker channel's SID is derived from
-- its worker's and task channel's SIDs (see domain/worker-channels.ts), so it is not stored.
--
-- Statistics per task channel are the workers per activity minus the workers of that activity
-- whose channel is stored as not available (available = 0 or capacity = 0), kept per
-- (task channel, activity) in channel_activity_unavailable by the triggers below. A worker's
-- move then looks up only its own rows (usually none).
--
-- Large deletes (a workspace, a task channel) remove the resource's own row at once and leave
-- a row in `reclaims`; the reclaimer deletes what remains in small batches.

-- The workers' triggers name worker_channels: they go first and come back at the end.
DROP TRIGGER workers_count_move;
DROP TRIGGER workers_count_delete;

CREATE TABLE worker_channel_deviations (
  worker_sid TEXT NOT NULL,
  task_channel_sid TEXT NOT NULL,
  capacity INTEGER NOT NULL,
  available INTEGER NOT NULL,
  assigned_tasks INTEGER NOT NULL,
  date_updated TEXT NOT NULL,
  PRIMARY KEY (worker_sid, task_channel_sid)
) WITHOUT ROWID;
INSERT INTO worker_channel_deviations
  SELECT worker_sid, task_channel_sid, capacity, available, assigned_tasks, date_updated
    FROM worker_channels
   WHERE NOT (capacity = 1 AND available = 1 AND assigned_tasks = 0);

CREATE TABLE channel_activity_unavailable (
  task_channel_sid TEXT NOT NULL,
  activity_sid TEXT NOT NULL,
  workers INTEGER NOT NULL,
  PRIMARY KEY (task_channel_sid, activity_sid)
) WITHOUT ROWID;
INSERT INTO channel_activity_unavailable
  SELECT c.task_channel_sid, k.activity_sid, count(*)
    FROM worker_channel_deviations c JOIN workers k ON k.sid = c.worker_sid
   WHERE NOT (c.available = 1 AND c.capacity > 0)
   GROUP BY c.task_channel_sid, k.activity_sid;

DROP TABLE worker_channels;
DROP TABLE channel_activity_counts;
ALTER TABLE worker_channel_deviations RENAME TO worker_channels;
CREATE INDEX worker_channels_by_task_channel ON worker_channels (task_channel_sid);
-- A worker's channels are listed in its task channels' order.
CREATE INDEX task_channels_by_workspace ON task_channels (workspace_sid, id);

CREATE TABLE reclaims (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  sid TEXT NOT NULL
);

-- Channels go first, while the worker's activity can still be read.
CREATE TRIGGER workers_count_delete BEFORE DELETE ON workers BEGIN
  DELETE FROM worker_channels WHERE worker_sid = OLD.sid;
  UPDATE activities SET workers = workers - 1 WHERE sid = OLD.activity_sid;
END;

-- Upserts rather than `IN (subquery)`, which made SQLite build a temporary b-tree per move.
CREATE TRIGGER workers_count_move AFTER UPDATE OF activity_sid ON workers
WHEN OLD.activity_sid <> NEW.activity_sid BEGIN
  UPDATE activities SET workers = workers - 1 WHERE sid = OLD.activity_sid;
  UPDATE activities SET workers = workers + 1 WHERE sid = NEW.activity_sid;
  INSERT INTO channel_activity_unavailable (task_channel_sid, activity_sid, workers)
    SELECT task_channel_sid, OLD.activity_sid, -1 FROM worker_channels
     WHERE worker_sid = NEW.sid AND NOT (available = 1 AND capacity > 0)
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers - 1;
  INSERT INTO channel_activity_unavailable (task_channel_sid, activity_sid, workers)
    SELECT task_channel_sid, NEW.activity_sid, 1 FROM worker_channels
     WHERE worker_sid = NEW.sid AND NOT (available = 1 AND capacity > 0)
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_insert AFTER INSERT ON worker_channels
WHEN NOT (NEW.available = 1 AND NEW.capacity > 0) BEGIN
  INSERT INTO channel_activity_unavailable (task_channel_sid, activity_sid, workers)
    SELECT NEW.task_channel_sid, activity_sid, 1 FROM workers WHERE sid = NEW.worker_sid
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_delete AFTER DELETE ON worker_channels
WHEN NOT (OLD.available = 1 AND OLD.capacity > 0) BEGIN
  UPDATE channel_activity_unavailable SET workers = workers - 1
   WHERE task_channel_sid = OLD.task_channel_sid
     AND activity_sid = (SELECT activity_sid FROM workers WHERE sid = OLD.worker_sid);
END;

CREATE TRIGGER worker_channels_count_loss AFTER UPDATE OF available, capacity ON worker_channels
WHEN (OLD.available = 1 AND OLD.capacity > 0) AND NOT (NEW.available = 1 AND NEW.capacity > 0) BEGIN
  INSERT INTO channel_activity_unavailable (task_channel_sid, activity_sid, workers)
    SELECT NEW.task_channel_sid, activity_sid, 1 FROM workers WHERE sid = NEW.worker_sid
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;

CREATE TRIGGER worker_channels_count_gain AFTER UPDATE OF available, capacity ON worker_channels
WHEN NOT (OLD.available = 1 AND OLD.capacity > 0) AND (NEW.available = 1 AND NEW.capacity > 0) BEGIN
  UPDATE channel_activity_unavailable SET workers = workers - 1
   WHERE task_channel_sid = NEW.task_channel_sid
     AND activity_sid = (SELECT activity_sid FROM workers WHERE sid = NEW.worker_sid);
END;
