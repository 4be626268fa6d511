-- The event stream reads a workspace's log in an order that never lets an event appear behind
-- a position already read (src/live/event-stream.ts). Event ids come from a sequence at insert
-- time, so with several writers a lower id can commit after a higher one. Each event also
-- records its transaction's id: once the oldest transaction still running is past it
-- (pg_snapshot_xmin), nothing more can commit below it, and the log read in (tx, id) order up
-- to that point is final. Events logged before this migration all count as tx 0 (committed).
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_by_log_order ON events (workspace_sid, tx, id);

-- Assignment callbacks, durable: a row per reservation.created whose workflow has an
-- AssignmentCallbackUrl, written by the trigger below in the reservation's own transaction (so
-- it exists exactly when the reservation committed), leased by the node that POSTs it, deleted
-- once its callback is over. A node that stops or dies mid-way leaves it for the next claim.
CREATE TABLE assignment_callbacks (
  event_id bigint PRIMARY KEY,
  leased_until_ms bigint NOT NULL DEFAULT 0
);
CREATE INDEX assignment_callbacks_due ON assignment_callbacks (leased_until_ms, event_id);

CREATE FUNCTION roster_events_to_assignments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO assignment_callbacks (event_id)
  SELECT NEW.id FROM workflows w
   WHERE w.sid = NEW.workflow_sid AND w.assignment_callback_url IS NOT NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER events_to_assignments AFTER INSERT ON events
  FOR EACH ROW WHEN (NEW.type = 'reservation.created') EXECUTE FUNCTION roster_events_to_assignments();
