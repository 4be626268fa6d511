-- A smaller event log, with fewer index inserts per event.
-- An event's SID is derived from its id and workspace (src/storage/event-sids.ts), so new rows
-- store none: the unique index on it keeps only the SIDs of events logged before this migration
-- (they keep theirs, so a SID once seen stays valid).
DROP INDEX events_by_sid;
CREATE UNIQUE INDEX events_by_stored_sid ON events (sid) WHERE sid IS NOT NULL;
-- Nothing pages a workspace's events by id any more: the Events list, callbacks and retention
-- read events_by_time, event_deliveries and the primary key.
DROP INDEX events_by_workspace;
