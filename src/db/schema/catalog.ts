// Tiers and packs an instance admin defined or changed at run time (`billing.tiers.upsert`, …). They overlay the
// catalog of the defaults / config file (modules/billing/plans.ts), so every instance on this database sees them.
import { jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const CATALOG_KINDS = ['tier', 'pack'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

export const billingCatalog = pgTable(
  'billing_catalog',
  {
    kind: text('kind', { enum: CATALOG_KINDS }).notNull(),
    id: text('id').notNull(),
    /** The tier or pack as `TierConfig` / `PackConfig`; null: deleted (also hides one the file or defaults define). */
    config: jsonb('config').$type<Record<string, unknown>>(),
    updatedBy: text('updated_by'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.id] })],
);
