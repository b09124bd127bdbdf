CREATE TABLE "backups" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"trigger" text NOT NULL,
	"format" text,
	"file_name" text,
	"size_bytes" bigint,
	"sha256" text,
	"table_count" integer,
	"row_count" bigint,
	"schema_version" integer,
	"duration_ms" integer,
	"error" text,
	"log" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"requested_by" text,
	"offsite_status" text,
	"offsite_key" text,
	"offsite_at" timestamp with time zone,
	"offsite_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "backups_created_idx" ON "backups" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "backups_offsite_idx" ON "backups" USING btree ("offsite_at");