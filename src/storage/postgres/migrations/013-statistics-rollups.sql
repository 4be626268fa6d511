-- Cumulative statistics: tallies of the event log's facts (src/domain/cumulative-statistics.ts)
-- per scope (a workspace, task queue, workflow or worker SID: SIDs are unique), span (1: a minute,
-- 60: an hour, 1440: a day), bucket (time_ms / span) and task channel ('' for none). A tally is JSON, merged
-- exactly by the reader. Written only by the roller: minutes before statistics_roll.rolled_until_ms,
-- and an hour (a day) once all its minutes (hours) are; never changed after.
CREATE TABLE statistics_rollups (
  scope_sid text NOT NULL,
  span_minutes integer NOT NULL,
  bucket bigint NOT NULL,
  task_channel_sid text NOT NULL,
  tally text NOT NULL,
  PRIMARY KEY (scope_sid, span_minutes, bucket, task_channel_sid)
);
-- The roller folds the rows of each hour (day) it completes into the hour's (day's) rows.
CREATE INDEX statistics_rollups_by_bucket ON statistics_rollups (span_minutes, bucket);

-- The roller's watermark: every event before rolled_until_ms is in the rollups (one row, which
-- a roll holds FOR UPDATE: one node rolls at a time).
CREATE TABLE statistics_roll (
  id integer PRIMARY KEY CHECK (id = 1),
  rolled_until_ms bigint NOT NULL
);
INSERT INTO statistics_roll (id, rolled_until_ms) VALUES (1, 0);
