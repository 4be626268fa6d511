-- Routing's candidates: every queue membership with what picking a worker for a task of the
-- queue orders and filters by, kept by the triggers below, so the offer walks one index
-- (queue, available, idle time, worker SID) in the order "longest idle first" gives and stops
-- at the first eligible member, instead of reading every member of the queue.
--
-- idle_ms is the later of the worker's last activity change (date_status_changed) and the last
-- time it let go of a task on any channel (worker_loads.freed_ms): the routing engine's
-- `idleSince`. A member's capacity and the target's expression are still checked per member.
-- worker_sid sorts bytewise (COLLATE "C"), as the engine's tie-break does.
CREATE TABLE routing_candidates (
  queue_id bigint NOT NULL,
  worker_id bigint NOT NULL,
  worker_sid text COLLATE "C" NOT NULL,
  available boolean NOT NULL,
  status_ms bigint NOT NULL,
  freed_ms bigint NOT NULL,
  idle_ms bigint GENERATED ALWAYS AS (GREATEST(status_ms, freed_ms)) STORED,
  PRIMARY KEY (queue_id, worker_id)
);
CREATE INDEX routing_candidates_by_idle ON routing_candidates (queue_id, available, idle_ms, worker_sid);
CREATE INDEX routing_candidates_by_worker ON routing_candidates (worker_id);

CREATE FUNCTION roster_epoch_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS
  $$ SELECT round(extract(epoch FROM t) * 1000)::bigint $$;

-- The candidate rows of these memberships (pairs of queue and worker row ids).
CREATE FUNCTION roster_add_routing_candidates(p_queues bigint[], p_workers bigint[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO routing_candidates (queue_id, worker_id, worker_sid, available, status_ms, freed_ms)
    SELECT n.queue_id, k.id, k.sid, a.available, roster_epoch_ms(k.date_status_changed),
           coalesce((SELECT max(l.freed_ms) FROM worker_loads l WHERE l.worker_sid = k.sid), 0)
      FROM unnest(p_queues, p_workers) AS n(queue_id, worker_id)
      JOIN workers k ON k.id = n.worker_id
      JOIN activities a ON a.sid = k.activity_sid
$$;

SELECT roster_add_routing_candidates(array_agg(queue_id), array_agg(worker_id)) FROM task_queue_members;

CREATE FUNCTION roster_routing_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM roster_add_routing_candidates(array_agg(queue_id), array_agg(worker_id)) FROM added;
  RETURN NULL;
END $$;
CREATE TRIGGER routing_candidates_member_insert AFTER INSERT ON task_queue_members
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION roster_routing_members_added();

CREATE FUNCTION roster_routing_members_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM routing_candidates c USING removed o
   WHERE c.queue_id = o.queue_id AND c.worker_id = o.worker_id;
  RETURN NULL;
END $$;
CREATE TRIGGER routing_candidates_member_delete AFTER DELETE ON task_queue_members
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION roster_routing_members_removed();

CREATE FUNCTION roster_routing_worker_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE routing_candidates
     SET available = (SELECT available FROM activities WHERE sid = NEW.activity_sid),
         status_ms = roster_epoch_ms(NEW.date_status_changed)
   WHERE worker_id = NEW.id;
  RETURN NULL;
END $$;
CREATE TRIGGER routing_candidates_worker_move AFTER UPDATE OF activity_sid, date_status_changed ON workers
  FOR EACH ROW
  WHEN (OLD.activity_sid IS DISTINCT FROM NEW.activity_sid
        OR OLD.date_status_changed IS DISTINCT FROM NEW.date_status_changed)
  EXECUTE FUNCTION roster_routing_worker_move();

CREATE FUNCTION roster_routing_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE routing_candidates
     SET freed_ms = (SELECT max(freed_ms) FROM worker_loads WHERE worker_sid = NEW.worker_sid)
   WHERE worker_id = (SELECT id FROM workers WHERE sid = NEW.worker_sid);
  RETURN NULL;
END $$;
CREATE TRIGGER routing_candidates_freed_insert AFTER INSERT ON worker_loads
  FOR EACH ROW WHEN (NEW.freed_ms <> 0) EXECUTE FUNCTION roster_routing_freed();
CREATE TRIGGER routing_candidates_freed_update AFTER UPDATE OF freed_ms ON worker_loads
  FOR EACH ROW WHEN (OLD.freed_ms IS DISTINCT FROM NEW.freed_ms) EXECUTE FUNCTION roster_routing_freed();
