-- Assignment callbacks, durable: a row per reservation.created whose workflow has an
-- AssignmentCallbackUrl, written by the trigger below in the reservation's own transaction (so
-- it exists exactly when the reservation committed), leased by the node that POSTs it, deleted
-- once its callback is over. A node that stops or dies mid-way leaves it for the next claim.
-- (SQLite needs nothing for the event stream's order: one writer, ids in commit order.)
CREATE TABLE assignment_callbacks (
  event_id INTEGER PRIMARY KEY,
  leased_until_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX assignment_callbacks_due ON assignment_callbacks (leased_until_ms, event_id);

CREATE TRIGGER events_to_assignments AFTER INSERT ON events WHEN NEW.type = 'reservation.created' BEGIN
  INSERT INTO assignment_callbacks (event_id)
  SELECT NEW.id FROM workflows w
   WHERE w.sid = NEW.workflow_sid AND w.assignment_callback_url IS NOT NULL;
END;
