-- The event stream reads a workspace's log in an order that never lets an event appear behind
-- a position already read (src/live/event-stream.ts). Event ids come from a sequence at insert
-- time, so with several writers a lower id can commit after a higher one. Each event also
-- records its transaction's id: once the oldest transaction still running is past it
-- (pg_snapshot_xmin), nothing more can commit below it, and the log read in (tx, id) order up
-- to that point is final. Events logged before this migration all count as tx 0 (committed).
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();
CREATE INDEX events_by_log_order ON events (workspace_sid, tx, id);
