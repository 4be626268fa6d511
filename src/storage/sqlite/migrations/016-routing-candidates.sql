-- Routing's candidates: every queue membership with what picking a worker for a task of the
-- queue orders and filters by, kept by the triggers below, so the offer walks one index
-- (queue, available, idle time, worker SID) in the order "longest idle first" gives and stops
-- at the first eligible member, instead of reading every member of the queue.
--
-- idle_ms is the later of the worker's last activity change (date_status_changed) and the last
-- time it let go of a task on any channel (worker_loads.freed_ms): the routing engine's
-- `idleSince`. A member's capacity and the target's expression are still checked per member.
CREATE TABLE routing_candidates (
  queue_id INTEGER NOT NULL,
  worker_id INTEGER NOT NULL,
  worker_sid TEXT NOT NULL,
  available INTEGER NOT NULL,
  status_ms INTEGER NOT NULL,
  freed_ms INTEGER NOT NULL,
  idle_ms INTEGER GENERATED ALWAYS AS (max(status_ms, freed_ms)) VIRTUAL,
  PRIMARY KEY (queue_id, worker_id)
) WITHOUT ROWID;
CREATE INDEX routing_candidates_by_idle ON routing_candidates (queue_id, available, idle_ms, worker_sid);
CREATE INDEX routing_candidates_by_worker ON routing_candidates (worker_id);

INSERT INTO routing_candidates (queue_id, worker_id, worker_sid, available, status_ms, freed_ms)
  SELECT m.queue_id, k.id, k.sid, a.available, unixepoch(k.date_status_changed) * 1000,
         coalesce((SELECT max(l.freed_ms) FROM worker_loads l WHERE l.worker_sid = k.sid), 0)
    FROM task_queue_members m
    JOIN workers k ON k.id = m.worker_id
    JOIN activities a ON a.sid = k.activity_sid;

CREATE TRIGGER routing_candidates_member_insert AFTER INSERT ON task_queue_members BEGIN
  INSERT INTO routing_candidates (queue_id, worker_id, worker_sid, available, status_ms, freed_ms)
    SELECT NEW.queue_id, k.id, k.sid, a.available, unixepoch(k.date_status_changed) * 1000,
           coalesce((SELECT max(l.freed_ms) FROM worker_loads l WHERE l.worker_sid = k.sid), 0)
      FROM workers k JOIN activities a ON a.sid = k.activity_sid
     WHERE k.id = NEW.worker_id;
END;

CREATE TRIGGER routing_candidates_member_delete AFTER DELETE ON task_queue_members BEGIN
  DELETE FROM routing_candidates WHERE queue_id = OLD.queue_id AND worker_id = OLD.worker_id;
END;

CREATE TRIGGER routing_candidates_worker_move AFTER UPDATE OF activity_sid, date_status_changed ON workers
WHEN OLD.activity_sid IS NOT NEW.activity_sid OR OLD.date_status_changed IS NOT NEW.date_status_changed BEGIN
  UPDATE routing_candidates
     SET available = (SELECT available FROM activities WHERE sid = NEW.activity_sid),
         status_ms = unixepoch(NEW.date_status_changed) * 1000
   WHERE worker_id = NEW.id;
END;

CREATE TRIGGER routing_candidates_freed_insert AFTER INSERT ON worker_loads
WHEN NEW.freed_ms <> 0 BEGIN
  UPDATE routing_candidates
     SET freed_ms = (SELECT max(freed_ms) FROM worker_loads WHERE worker_sid = NEW.worker_sid)
   WHERE worker_id = (SELECT id FROM workers WHERE sid = NEW.worker_sid);
END;

CREATE TRIGGER routing_candidates_freed_update AFTER UPDATE OF freed_ms ON worker_loads
WHEN OLD.freed_ms IS NOT NEW.freed_ms BEGIN
  UPDATE routing_candidates
     SET freed_ms = (SELECT max(freed_ms) FROM worker_loads WHERE worker_sid = NEW.worker_sid)
   WHERE worker_id = (SELECT id FROM workers WHERE sid = NEW.worker_sid);
END;
