-- Durable timers: a row per pending timer, deleted in the transaction that fires it. Nodes
-- claim due rows with FOR UPDATE SKIP LOCKED, so each fires on one node.
CREATE TABLE timers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_sid text NOT NULL,
  kind text NOT NULL,
  resource_sid text NOT NULL,
  due_at_ms bigint NOT NULL
);
CREATE UNIQUE INDEX timers_by_resource ON timers (kind, resource_sid);
CREATE INDEX timers_by_due ON timers (due_at_ms);
CREATE INDEX timers_by_workspace ON timers (workspace_sid);
