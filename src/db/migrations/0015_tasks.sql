CREATE TABLE "task_comments" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"task_id" text NOT NULL,
	"author_type" text NOT NULL,
	"author_id" text,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_counters" (
	"org_id" text PRIMARY KEY NOT NULL,
	"last_number" integer DEFAULT 0 NOT NULL,
	"day" date NOT NULL,
	"created_today" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_dependencies" (
	"org_id" text NOT NULL,
	"task_id" text NOT NULL,
	"depends_on_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_dependencies_task_id_depends_on_id_pk" PRIMARY KEY("task_id","depends_on_id")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"number" integer NOT NULL,
	"title" text NOT NULL,
	"title_key" text NOT NULL,
	"description" text,
	"type" text DEFAULT 'other' NOT NULL,
	"status" text DEFAULT 'todo' NOT NULL,
	"priority" text DEFAULT 'P2' NOT NULL,
	"assignee_type" text,
	"assignee_id" text,
	"product_id" text,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"due_date" date,
	"estimated_minutes" integer,
	"max_duration_seconds" integer,
	"parent_id" text,
	"resolution" text,
	"completed_at" timestamp with time zone,
	"lease_expires_at" timestamp with time zone,
	"lease_holder" text,
	"assigned_by_claim" boolean DEFAULT false NOT NULL,
	"created_by_type" text NOT NULL,
	"created_by_id" text,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "task_comments" ADD CONSTRAINT "task_comments_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_counters" ADD CONSTRAINT "task_counters_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_dependencies" ADD CONSTRAINT "task_dependencies_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_dependencies" ADD CONSTRAINT "task_dependencies_depends_on_id_tasks_id_fk" FOREIGN KEY ("depends_on_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "task_comments_task_idx" ON "task_comments" USING btree ("task_id","id");--> statement-breakpoint
CREATE INDEX "task_dependencies_depends_on_idx" ON "task_dependencies" USING btree ("depends_on_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_org_number_key" ON "tasks" USING btree ("org_id","number");--> statement-breakpoint
CREATE INDEX "tasks_org_idx" ON "tasks" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "tasks_org_assignee_status_idx" ON "tasks" USING btree ("org_id","assignee_id","status","id");--> statement-breakpoint
CREATE INDEX "tasks_org_status_idx" ON "tasks" USING btree ("org_id","status","id");--> statement-breakpoint
CREATE INDEX "tasks_org_title_key_idx" ON "tasks" USING btree ("org_id","title_key");--> statement-breakpoint
CREATE INDEX "tasks_parent_idx" ON "tasks" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "tasks_next_idx" ON "tasks" USING btree ("org_id","assignee_id","priority","id") WHERE status = 'todo' and archived_at is null;--> statement-breakpoint
CREATE INDEX "tasks_lease_idx" ON "tasks" USING btree ("org_id","lease_expires_at") WHERE status = 'in_progress' and lease_expires_at is not null;--> statement-breakpoint
-- Hand-written (drizzle cannot express these): the weighted full-text column and its composite index, so a
-- search stays inside one org's rows (btree_gin puts org_id in the GIN index; see STACK-NOTES).
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "tsv" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce("title", '')), 'A') || setweight(to_tsvector('english', coalesce("description", '')), 'B')) STORED;--> statement-breakpoint
CREATE INDEX "tasks_org_tsv_idx" ON "tasks" USING gin ("org_id", "tsv");
