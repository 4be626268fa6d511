-- The Events resource and event callbacks.
-- Every event gets a stable SID (EV…), the client address of the request that made it, and the
-- SIDs it pertains to (the Events list filters), each with an index that walks (time, id) so
-- that pages stay one index seek at any depth.
ALTER TABLE events ADD COLUMN sid TEXT;
ALTER TABLE events ADD COLUMN source_ip TEXT;
ALTER TABLE events ADD COLUMN task_sid TEXT;
ALTER TABLE events ADD COLUMN reservation_sid TEXT;
ALTER TABLE events ADD COLUMN worker_sid TEXT;
ALTER TABLE events ADD COLUMN task_queue_sid TEXT;
ALTER TABLE events ADD COLUMN workflow_sid TEXT;
ALTER TABLE events ADD COLUMN task_channel_sid TEXT;

-- Events logged before this migration get theirs once (the log is otherwise append-only).
DROP TRIGGER events_append_only;
UPDATE events SET
  sid = 'EV' || lower(hex(randomblob(16))),
  task_sid = CASE WHEN resource_type = 'Task' THEN resource_sid ELSE json_extract(data, '$.task_sid') END,
  reservation_sid = CASE WHEN resource_type = 'Reservation' THEN resource_sid ELSE json_extract(data, '$.reservation_sid') END,
  worker_sid = CASE WHEN resource_type = 'Worker' THEN resource_sid ELSE json_extract(data, '$.worker_sid') END,
  task_queue_sid = CASE WHEN resource_type = 'TaskQueue' THEN resource_sid ELSE json_extract(data, '$.task_queue_sid') END,
  workflow_sid = CASE WHEN resource_type = 'Workflow' THEN resource_sid ELSE json_extract(data, '$.workflow_sid') END,
  task_channel_sid = CASE WHEN resource_type = 'TaskChannel' THEN resource_sid ELSE json_extract(data, '$.task_channel_sid') END;
CREATE TRIGGER events_append_only BEFORE UPDATE ON events BEGIN
  SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE UNIQUE INDEX events_by_sid ON events (sid);
CREATE INDEX events_by_time ON events (workspace_sid, time_ms, id);
CREATE INDEX events_by_type ON events (workspace_sid, type, time_ms, id);
CREATE INDEX events_by_task ON events (task_sid, time_ms, id) WHERE task_sid IS NOT NULL;
CREATE INDEX events_by_reservation ON events (reservation_sid, time_ms, id) WHERE reservation_sid IS NOT NULL;
CREATE INDEX events_by_worker ON events (worker_sid, time_ms, id) WHERE worker_sid IS NOT NULL;
CREATE INDEX events_by_task_queue ON events (task_queue_sid, time_ms, id) WHERE task_queue_sid IS NOT NULL;
CREATE INDEX events_by_workflow ON events (workflow_sid, time_ms, id) WHERE workflow_sid IS NOT NULL;
CREATE INDEX events_by_task_channel ON events (task_channel_sid, time_ms, id) WHERE task_channel_sid IS NOT NULL;

-- Event callbacks: a row per event still to be POSTed to its workspace's EventCallbackUrl,
-- written by the trigger below in the event's own transaction (so it exists exactly when the
-- event committed), deleted once delivered, kept as 'failed' once its retries are over.
CREATE TABLE event_deliveries (
  event_id INTEGER PRIMARY KEY,
  workspace_sid TEXT NOT NULL,
  url TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  first_attempt_ms INTEGER,
  next_attempt_ms INTEGER NOT NULL,
  leased_until_ms INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_ms, event_id);
CREATE INDEX event_deliveries_by_workspace ON event_deliveries (workspace_sid, state, event_id);

-- What is POSTed: every event of a workspace with an EventCallbackUrl, or only the types its
-- EventsFilter (a comma list) names.
CREATE TRIGGER events_to_callbacks AFTER INSERT ON events BEGIN
  INSERT INTO event_deliveries (event_id, workspace_sid, url, state, next_attempt_ms)
  SELECT NEW.id, NEW.workspace_sid, w.event_callback_url, 'pending', NEW.time_ms
    FROM workspaces w
   WHERE w.sid = NEW.workspace_sid
     AND w.event_callback_url IS NOT NULL
     AND (w.events_filter IS NULL OR w.events_filter = ''
          OR instr(',' || replace(w.events_filter, ' ', '') || ',', ',' || NEW.type || ',') > 0);
END;
