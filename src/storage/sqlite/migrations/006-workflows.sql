-- Workflows: the Configuration is stored exactly as sent (and validated on write).
CREATE TABLE workflows (
  id INTEGER PRIMARY KEY,
  sid TEXT NOT NULL UNIQUE,
  account_sid TEXT NOT NULL,
  workspace_sid TEXT NOT NULL,
  friendly_name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  configuration TEXT NOT NULL,
  assignment_callback_url TEXT,
  fallback_assignment_callback_url TEXT,
  task_reservation_timeout INTEGER NOT NULL,
  date_created TEXT NOT NULL,
  date_updated TEXT NOT NULL
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_sid, id);
CREATE INDEX workflows_by_name ON workflows (workspace_sid, name_key);
