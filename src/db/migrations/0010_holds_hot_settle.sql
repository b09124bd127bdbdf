DROP INDEX "holds_open_expiry_idx";--> statement-breakpoint
DROP INDEX "holds_unposted_idx";--> statement-breakpoint
CREATE INDEX "holds_unposted_idx" ON "holds" USING btree ("org_id","currency") WHERE "holds"."posted_at" is null;--> statement-breakpoint
-- Room in each page for the settled version of a hold: HOT updates need free space on the same page.
ALTER TABLE "holds" SET (fillfactor = 80);
