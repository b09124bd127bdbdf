ALTER TABLE "email_outbox" ALTER COLUMN "status" SET DEFAULT 'queued';--> statement-breakpoint
-- Mail written before delivery existed waits as `queued` (the old `pending`).
UPDATE "email_outbox" SET "status" = 'queued' WHERE "status" = 'pending';--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "last_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "message_id" text;--> statement-breakpoint
ALTER TABLE "email_outbox" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "dispatch_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "dispatch_error" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "next_dispatch_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "parked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "queue_schedules" ADD COLUMN "singleton_key" text;--> statement-breakpoint
CREATE INDEX "email_outbox_org_idx" ON "email_outbox" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "quota_consumptions_created_idx" ON "quota_consumptions" USING btree ("created_at");