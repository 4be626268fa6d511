-- Workers listed with Ordering=DateStatusChanged:asc|desc page along this index.
CREATE INDEX workers_by_status_change ON workers (workspace_sid, date_status_changed, id);
