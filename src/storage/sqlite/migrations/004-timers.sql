-- Durable timers: a row per pending timer, deleted in the transaction that fires it.
CREATE TABLE timers (
  id INTEGER PRIMARY KEY,
  workspace_sid TEXT NOT NULL,
  kind TEXT NOT NULL,
  resource_sid TEXT NOT NULL,
  due_at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX timers_by_resource ON timers (kind, resource_sid);
CREATE INDEX timers_by_due ON timers (due_at_ms);
CREATE INDEX timers_by_workspace ON timers (workspace_sid);
