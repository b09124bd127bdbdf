CREATE TABLE "agent_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"description" text,
	"icon" text,
	"category" text,
	"model" text,
	"interval_sec" integer,
	"identity" text,
	"tools" text[] DEFAULT '{}'::text[] NOT NULL,
	"capabilities" text[] DEFAULT '{}'::text[] NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"featured" boolean DEFAULT false NOT NULL,
	"sort_order" integer DEFAULT 0 NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"name" text NOT NULL,
	"display_name" text,
	"role" text,
	"title" text,
	"reports_to" text,
	"emoji" text,
	"color" text,
	"template_id" text,
	"runtime" text DEFAULT 'llm' NOT NULL,
	"runtime_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"model" text,
	"provider_key_encrypted" text,
	"instructions" text,
	"tools" text[] DEFAULT '{}'::text[] NOT NULL,
	"scopes" text[] DEFAULT '{}'::text[] NOT NULL,
	"interval_sec" integer,
	"max_concurrent_runs" integer DEFAULT 1 NOT NULL,
	"monthly_credits" bigint,
	"monthly_tokens" bigint,
	"alert_at_pct" integer DEFAULT 80 NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"key_secret_encrypted" text NOT NULL,
	"last_heartbeat_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rules" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"agent_id" text,
	"category" text,
	"text" text NOT NULL,
	"permanent" boolean DEFAULT false NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "agent_id" text;--> statement-breakpoint
ALTER TABLE "agent_templates" ADD CONSTRAINT "agent_templates_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_template_id_agent_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."agent_templates"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rules" ADD CONSTRAINT "rules_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rules" ADD CONSTRAINT "rules_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_templates_org_slug_idx" ON "agent_templates" USING btree ("org_id","slug") WHERE archived_at is null;--> statement-breakpoint
CREATE INDEX "agent_templates_org_idx" ON "agent_templates" USING btree ("org_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_org_name_idx" ON "agents" USING btree ("org_id","name");--> statement-breakpoint
CREATE INDEX "agents_org_idx" ON "agents" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "agents_reports_to_idx" ON "agents" USING btree ("reports_to");--> statement-breakpoint
CREATE INDEX "rules_org_idx" ON "rules" USING btree ("org_id","id");--> statement-breakpoint
CREATE INDEX "rules_agent_idx" ON "rules" USING btree ("agent_id");