ALTER TABLE "agents" ADD COLUMN "heartbeat_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "budget_alerted_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "agents_heartbeat_due_idx" ON "agents" USING btree ("heartbeat_due_at") WHERE interval_sec is not null;