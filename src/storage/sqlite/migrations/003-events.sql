-- The event log: every state change appends one row in the transaction that makes it, so an
-- event exists exactly when its change committed. Rows are never changed; they may be deleted
-- only by retention.
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_sid TEXT NOT NULL,
  actor TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX events_by_workspace ON events (workspace_sid, id);

CREATE TRIGGER events_append_only BEFORE UPDATE ON events BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;
