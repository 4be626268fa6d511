-- Two connections that share a counter slot and move workers in opposite directions
-- (A→B and B→A) used to lock the same two counter rows in opposite orders and deadlock
-- (retried, but only after deadlock_timeout). Counter rows are now locked in one order:
-- activities by SID, then (task channel, activity) by SID; and the slots are twice as many.

CREATE OR REPLACE FUNCTION roster_count_slot() RETURNS smallint LANGUAGE sql VOLATILE AS
$$ SELECT (pg_backend_pid() % 32)::smallint $$;

CREATE OR REPLACE FUNCTION roster_workers_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c record;
BEGIN
  IF OLD.activity_sid < NEW.activity_sid THEN
    PERFORM roster_add_activity_count(OLD.activity_sid, -1);
    PERFORM roster_add_activity_count(NEW.activity_sid, 1);
  ELSE
    PERFORM roster_add_activity_count(NEW.activity_sid, 1);
    PERFORM roster_add_activity_count(OLD.activity_sid, -1);
  END IF;
  FOR c IN SELECT task_channel_sid FROM worker_channels
            WHERE worker_sid = NEW.sid AND available AND capacity > 0 ORDER BY task_channel_sid LOOP
    IF OLD.activity_sid < NEW.activity_sid THEN
      PERFORM roster_add_channel_count(c.task_channel_sid, OLD.activity_sid, -1);
      PERFORM roster_add_channel_count(c.task_channel_sid, NEW.activity_sid, 1);
    ELSE
      PERFORM roster_add_channel_count(c.task_channel_sid, NEW.activity_sid, 1);
      PERFORM roster_add_channel_count(c.task_channel_sid, OLD.activity_sid, -1);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
