-- New work for the worker announces itself: every statement that inserts events or webhook deliveries (through
-- recordEvent, the dispatcher's fan-out, a replay, or a set-based sweep that dead-letters jobs) sends one NOTIFY,
-- delivered when its transaction commits; the worker wakes its dispatcher or deliverer on it (src/jobs/worker.ts).
CREATE OR REPLACE FUNCTION opsbase_notify_channel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION opsbase_notify_channel('opsbase_events');--> statement-breakpoint
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries FOR EACH STATEMENT EXECUTE FUNCTION opsbase_notify_channel('opsbase_webhooks');
