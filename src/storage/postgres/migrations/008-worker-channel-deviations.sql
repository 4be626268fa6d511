-- Worker channels are stored only where they deviate from the default (DEFAULT_WORKER_CHANNEL:
-- capacity 1, available, no assigned tasks); a worker channel without a row has the default,
-- so creating a task channel writes no row per worker. A worker channel's SID is derived from
-- its worker's and task channel's SIDs (see domain/worker-channels.ts), so it is not stored.
--
-- Statistics per task channel are the workers per activity minus the workers of that activity
-- whose channel is stored as not available (available false or capacity 0), kept per
-- (task channel, activity, slot) in channel_activity_unavailable by the triggers below. A
-- worker's move then looks up only its own rows (usually none).
--
-- Large deletes (a workspace, a task channel) remove the resource's own row at once and leave
-- a row in `reclaims`; the reclaimer deletes what remains in small batches, each its own
-- short transaction.

DROP TRIGGER workers_count_delete ON workers;
DROP TRIGGER workers_count_move ON workers;

CREATE TABLE worker_channel_deviations (
  worker_sid text NOT NULL,
  task_channel_sid text NOT NULL,
  capacity integer NOT NULL,
  available boolean NOT NULL,
  assigned_tasks integer NOT NULL,
  date_updated timestamptz NOT NULL,
  PRIMARY KEY (worker_sid, task_channel_sid)
);
INSERT INTO worker_channel_deviations
  SELECT worker_sid, task_channel_sid, capacity, available, assigned_tasks, date_updated
    FROM worker_channels
   WHERE NOT (capacity = 1 AND available AND assigned_tasks = 0);

CREATE TABLE channel_activity_unavailable (
  task_channel_sid text NOT NULL,
  activity_sid text NOT NULL,
  slot smallint NOT NULL,
  workers integer NOT NULL,
  PRIMARY KEY (task_channel_sid, activity_sid, slot)
);
INSERT INTO channel_activity_unavailable
  SELECT c.task_channel_sid, k.activity_sid, 0, count(*)
    FROM worker_channel_deviations c JOIN workers k ON k.sid = c.worker_sid
   WHERE NOT (c.available AND c.capacity > 0)
   GROUP BY c.task_channel_sid, k.activity_sid;

DROP TABLE worker_channels;
DROP TABLE channel_activity_counts;
DROP FUNCTION roster_worker_channels_change();
DROP FUNCTION roster_add_channel_count(text, text, integer);
ALTER TABLE worker_channel_deviations RENAME TO worker_channels;
CREATE INDEX worker_channels_by_task_channel ON worker_channels (task_channel_sid);

CREATE TABLE reclaims (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  sid text NOT NULL
);

CREATE FUNCTION roster_add_unavailable(p_channel text, p_activity text, p_delta integer) RETURNS void
LANGUAGE sql VOLATILE AS $$
  INSERT INTO channel_activity_unavailable (task_channel_sid, activity_sid, slot, workers)
  VALUES (p_channel, p_activity, roster_count_slot(), p_delta)
  ON CONFLICT (task_channel_sid, activity_sid, slot)
  DO UPDATE SET workers = channel_activity_unavailable.workers + EXCLUDED.workers
$$;

-- The worker's channels go too; their own trigger no longer finds the worker, so their
-- counts are taken off here, with the activity the worker had.
CREATE OR REPLACE FUNCTION roster_workers_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  PERFORM roster_add_activity_count(OLD.activity_sid, -1);
  FOR c IN DELETE FROM worker_channels WHERE worker_sid = OLD.sid
           RETURNING task_channel_sid, available, capacity LOOP
    IF NOT (c.available AND c.capacity > 0) THEN
      PERFORM roster_add_unavailable(c.task_channel_sid, OLD.activity_sid, -1);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER workers_count_delete AFTER DELETE ON workers
  FOR EACH ROW EXECUTE FUNCTION roster_workers_delete();

-- Counter rows are locked in one order (see 002): activities by SID, then (task channel, activity).
CREATE OR REPLACE FUNCTION roster_workers_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  IF OLD.activity_sid < NEW.activity_sid THEN
    PERFORM roster_add_activity_count(OLD.activity_sid, -1);
    PERFORM roster_add_activity_count(NEW.activity_sid, 1);
  ELSE
    PERFORM roster_add_activity_count(NEW.activity_sid, 1);
    PERFORM roster_add_activity_count(OLD.activity_sid, -1);
  END IF;
  FOR c IN SELECT task_channel_sid FROM worker_channels
            WHERE worker_sid = NEW.sid AND NOT (available AND capacity > 0) ORDER BY task_channel_sid LOOP
    IF OLD.activity_sid < NEW.activity_sid THEN
      PERFORM roster_add_unavailable(c.task_channel_sid, OLD.activity_sid, -1);
      PERFORM roster_add_unavailable(c.task_channel_sid, NEW.activity_sid, 1);
    ELSE
      PERFORM roster_add_unavailable(c.task_channel_sid, NEW.activity_sid, 1);
      PERFORM roster_add_unavailable(c.task_channel_sid, OLD.activity_sid, -1);
    END IF;
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
  was boolean := TG_OP <> 'INSERT' AND NOT (OLD.available AND OLD.capacity > 0);
  now_unavailable boolean := TG_OP <> 'DELETE' AND NOT (NEW.available AND NEW.capacity > 0);
  worker_sid_ text := CASE WHEN TG_OP = 'DELETE' THEN OLD.worker_sid ELSE NEW.worker_sid END;
  channel_sid_ text := CASE WHEN TG_OP = 'DELETE' THEN OLD.task_channel_sid ELSE NEW.task_channel_sid END;
  activity text;
BEGIN
  IF was = now_unavailable THEN RETURN NULL; END IF;
  SELECT activity_sid INTO activity FROM workers WHERE sid = worker_sid_ FOR SHARE;
  IF activity IS NULL THEN RETURN NULL; END IF;
  PERFORM roster_add_unavailable(channel_sid_, activity, CASE WHEN now_unavailable THEN 1 ELSE -1 END);
  RETURN NULL;
END $$;
CREATE TRIGGER worker_channels_count_insert AFTER INSERT ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
CREATE TRIGGER worker_channels_count_delete AFTER DELETE ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
CREATE TRIGGER worker_channels_count_update AFTER UPDATE OF available, capacity ON worker_channels
  FOR EACH ROW EXECUTE FUNCTION roster_worker_channels_change();
