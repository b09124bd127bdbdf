CREATE TABLE "queue_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "queue_jobs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"org_id" text NOT NULL,
	"queue" text NOT NULL,
	"task_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"state" text DEFAULT 'waiting' NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"backoff_seconds" integer DEFAULT 5 NOT NULL,
	"timeout_seconds" integer DEFAULT 300 NOT NULL,
	"run_at" timestamp with time zone DEFAULT now() NOT NULL,
	"worker_id" text,
	"lease_expires_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"result" jsonb,
	"error" jsonb,
	"idempotency_key" text,
	"singleton_key" text,
	"schedule_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "queue_queues" (
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "queue_queues_org_id_name_pk" PRIMARY KEY("org_id","name")
);
--> statement-breakpoint
CREATE TABLE "queue_schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"queue" text NOT NULL,
	"key" text,
	"task_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"priority" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer DEFAULT 3 NOT NULL,
	"backoff_seconds" integer DEFAULT 5 NOT NULL,
	"timeout_seconds" integer DEFAULT 300 NOT NULL,
	"cron" text,
	"tz" text DEFAULT 'UTC' NOT NULL,
	"every_seconds" integer,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone,
	"last_job_id" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "queue_jobs_ready_idx" ON "queue_jobs" USING btree ("org_id","queue","priority" DESC NULLS LAST,"run_at","seq") WHERE state = 'waiting';--> statement-breakpoint
CREATE INDEX "queue_jobs_lease_idx" ON "queue_jobs" USING btree ("org_id","queue","lease_expires_at") WHERE state = 'active';--> statement-breakpoint
CREATE INDEX "queue_jobs_org_idx" ON "queue_jobs" USING btree ("org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "queue_jobs_idempotency_idx" ON "queue_jobs" USING btree ("org_id","queue","idempotency_key") WHERE idempotency_key is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "queue_jobs_singleton_idx" ON "queue_jobs" USING btree ("org_id","queue","singleton_key") WHERE singleton_key is not null and state in ('waiting', 'active');--> statement-breakpoint
CREATE INDEX "queue_schedules_due_idx" ON "queue_schedules" USING btree ("next_run_at");--> statement-breakpoint
CREATE INDEX "queue_schedules_org_idx" ON "queue_schedules" USING btree ("org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "queue_schedules_key_idx" ON "queue_schedules" USING btree ("org_id","queue","key") WHERE key is not null;