ALTER TABLE "agents" ADD COLUMN "budget_paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "run_failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "retry_after" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "agents_budget_paused_idx" ON "agents" USING btree ("budget_paused_at") WHERE budget_paused_at is not null;--> statement-breakpoint
-- Agents their budget paused before this column existed resume like the ones paused after it.
UPDATE "agents" SET "budget_paused_at" = "updated_at" WHERE "status" = 'paused' AND "status_reason" = 'budget';
