-- Cumulative statistics: per-minute tallies of the event log's facts (src/domain/cumulative-statistics.ts),
-- per scope (a workspace, task queue, workflow or worker SID: SIDs are unique), task channel
-- ('' for none) and minute (time_ms / 60000). A tally is JSON, merged exactly by the reader.
-- Written only by the roller, for minutes before statistics_roll.rolled_until_ms, never changed after.
CREATE TABLE statistics_rollups (
  scope_sid text NOT NULL,
  minute bigint NOT NULL,
  task_channel_sid text NOT NULL,
  tally text NOT NULL,
  PRIMARY KEY (scope_sid, minute, task_channel_sid)
);

-- The roller's watermark: every event before rolled_until_ms is in the rollups (one row, which
-- a roll holds FOR UPDATE: one node rolls at a time).
CREATE TABLE statistics_roll (
  id integer PRIMARY KEY CHECK (id = 1),
  rolled_until_ms bigint NOT NULL
);
INSERT INTO statistics_roll (id, rolled_until_ms) VALUES (1, 0);
