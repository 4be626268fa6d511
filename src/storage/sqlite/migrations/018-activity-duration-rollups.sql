-- Activity durations come from the rollups too (issue 14): tallies now hold the stints of worker
-- events (worker.created, worker.activity.update, worker.deleted), in the worker's scope and the
-- workspace's "<WS>/Workers" scope. Rows rolled before lack them, so every row is dropped and the
-- watermark reset: the roller rolls the log again (reads are exact meanwhile: they read the log
-- from the watermark on).
DELETE FROM statistics_rollups;
UPDATE statistics_roll SET rolled_until_ms = 0 WHERE id = 1;
