-- TaskQueues listed with Ordering=DateUpdated:asc|desc page along this index.
CREATE INDEX task_queues_by_update ON task_queues (workspace_sid, date_updated, id);
