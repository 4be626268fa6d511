-- Workflows: the Configuration is stored exactly as sent (and validated on write).
CREATE TABLE workflows (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sid text NOT NULL UNIQUE,
  account_sid text NOT NULL,
  workspace_sid text NOT NULL,
  friendly_name text NOT NULL,
  name_key text NOT NULL,
  configuration text NOT NULL,
  assignment_callback_url text,
  fallback_assignment_callback_url text,
  task_reservation_timeout integer NOT NULL,
  date_created timestamptz NOT NULL,
  date_updated timestamptz NOT NULL
);
CREATE INDEX workflows_by_workspace ON workflows (workspace_sid, id);
CREATE INDEX workflows_by_name ON workflows (workspace_sid, name_key);
