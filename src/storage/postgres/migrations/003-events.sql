-- The event log: every state change appends one row in the transaction that makes it, so an
-- event exists exactly when its change committed. Rows are never changed; they may be deleted
-- only by retention.
CREATE TABLE events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  type text NOT NULL,
  resource_type text NOT NULL,
  resource_sid text NOT NULL,
  actor text NOT NULL,
  time_ms bigint NOT NULL,
  data text NOT NULL
);
CREATE INDEX events_by_workspace ON events (workspace_sid, id);

CREATE FUNCTION roster_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION roster_events_append_only();
