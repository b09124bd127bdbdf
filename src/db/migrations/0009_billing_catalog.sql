CREATE TABLE "billing_catalog" (
	"kind" text NOT NULL,
	"id" text NOT NULL,
	"config" jsonb,
	"updated_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "billing_catalog_kind_id_pk" PRIMARY KEY("kind","id")
);
