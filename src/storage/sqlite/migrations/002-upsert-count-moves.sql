-- A worker's move between activities takes its available channels' counts out of the old
-- activity with an upsert, like it puts them into the new one. The `IN (subquery)` it replaces
-- made SQLite build a temporary b-tree on every move; allocating and freeing its pages cost
-- more than the rest of the update. The old activity's row always exists (the worker is
-- counted in it), so the upsert only ever takes its UPDATE branch there.
DROP TRIGGER workers_count_move;

CREATE TRIGGER workers_count_move AFTER UPDATE OF activity_sid ON workers
WHEN OLD.activity_sid <> NEW.activity_sid BEGIN
  UPDATE activities SET workers = workers - 1 WHERE sid = OLD.activity_sid;
  UPDATE activities SET workers = workers + 1 WHERE sid = NEW.activity_sid;
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, workers)
    SELECT task_channel_sid, OLD.activity_sid, -1 FROM worker_channels
     WHERE worker_sid = NEW.sid AND available = 1 AND capacity > 0
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers - 1;
  INSERT INTO channel_activity_counts (task_channel_sid, activity_sid, workers)
    SELECT task_channel_sid, NEW.activity_sid, 1 FROM worker_channels
     WHERE worker_sid = NEW.sid AND available = 1 AND capacity > 0
    ON CONFLICT (task_channel_sid, activity_sid) DO UPDATE SET workers = workers + 1;
END;
