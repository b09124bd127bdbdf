CREATE TABLE "auto_topup_charges" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"currency" text NOT NULL,
	"pack_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"price_cents" integer NOT NULL,
	"month" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"payment_intent_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auto_topup_charges_payment_intent_id_unique" UNIQUE("payment_intent_id")
);
--> statement-breakpoint
CREATE TABLE "stripe_customers" (
	"org_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stripe_customers_customer_id_unique" UNIQUE("customer_id")
);
--> statement-breakpoint
CREATE INDEX "auto_topup_charges_org_idx" ON "auto_topup_charges" USING btree ("org_id","currency","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "auto_topup_charges_one_pending" ON "auto_topup_charges" USING btree ("org_id","currency") WHERE "auto_topup_charges"."status" = 'pending';