CREATE TABLE "files" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"path" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"category" text,
	"size" bigint NOT NULL,
	"content_hash" text NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"text_content" text,
	"extraction_status" text DEFAULT 'pending' NOT NULL,
	"extraction_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_record_revisions" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"record_id" text NOT NULL,
	"revision" integer NOT NULL,
	"title" text NOT NULL,
	"subtitle" text,
	"summary_text" text,
	"app_href" text,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"content_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "workspace_records" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"source_product" text NOT NULL,
	"record_type" text NOT NULL,
	"source_ref" text NOT NULL,
	"title" text NOT NULL,
	"subtitle" text,
	"summary_text" text,
	"app_href" text,
	"meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"content_hash" text NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_record_revisions" ADD CONSTRAINT "workspace_record_revisions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_record_revisions" ADD CONSTRAINT "workspace_record_revisions_record_id_workspace_records_id_fk" FOREIGN KEY ("record_id") REFERENCES "public"."workspace_records"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_records" ADD CONSTRAINT "workspace_records_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "files_org_path_idx" ON "files" USING btree ("org_id","path");--> statement-breakpoint
CREATE INDEX "files_org_id_idx" ON "files" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "files_org_hash_idx" ON "files" USING btree ("org_id","content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_record_revisions_record_idx" ON "workspace_record_revisions" USING btree ("record_id","revision");--> statement-breakpoint
CREATE UNIQUE INDEX "workspace_records_key_idx" ON "workspace_records" USING btree ("org_id","source_product","record_type","source_ref");--> statement-breakpoint
CREATE INDEX "workspace_records_org_id_idx" ON "workspace_records" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "workspace_records_org_type_idx" ON "workspace_records" USING btree ("org_id","record_type","id");