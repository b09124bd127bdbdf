-- Live views per org (src/http/streams.ts): each NOTIFY names the org it concerns, so a dashboard hears only its own
-- org's changes. Statement-level triggers with transition tables: one trigger call per statement, one NOTIFY per
-- org it touched (PostgreSQL also collapses identical payloads within a transaction), whatever the row count.
CREATE OR REPLACE FUNCTION opsbase_notify_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], o.org_id) FROM (SELECT DISTINCT org_id FROM new_rows) o;
  RETURN NULL;
END
$$;--> statement-breakpoint
-- Events: the payload was empty (the worker's dispatcher, which wakes on it, ignores it); now the org.
DROP TRIGGER events_notify ON events;--> statement-breakpoint
CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION opsbase_notify_orgs('opsbase_events');--> statement-breakpoint
CREATE TRIGGER notifications_notify AFTER INSERT ON notifications REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION opsbase_notify_orgs('opsbase_notifications');--> statement-breakpoint
-- Every state change of an org's job (claim, complete, fail, cancel, retry, requeue, dead-letter, from any code path)
-- on its own channel: `opsbase_queue` wakes long-polling claimers, which a claim or completion must not do. Heartbeats
-- change no state and send nothing; the workers' own jobs (org `system`) belong to no org's view.
CREATE OR REPLACE FUNCTION opsbase_notify_job_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('opsbase_jobs', o.org_id)
    FROM (SELECT DISTINCT n.org_id FROM new_rows n JOIN old_rows p ON p.id = n.id
           WHERE n.state <> p.state AND n.org_id <> 'system') o;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER queue_jobs_state_notify AFTER UPDATE ON queue_jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION opsbase_notify_job_states();
