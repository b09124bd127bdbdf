// Integrations (issue 12, Orkosi /integrations): the catalogue with each one's status in this org, configuring one
// (secret fields into the vault, the rest plainly), and a connection test that calls the service for real.
// Status: not_configured (no row) → configured (saved, untested, or changed since its last test) → ok | failing.
import { and, eq, inArray } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid, notFound, unprocessable } from '../../core/errors.ts';
import { checkOutboundUrl } from '../../core/net-guard.ts';
import { iso } from '../../core/schemas.ts';
import { credentials, integrationConfigs } from '../../db/schema/credentials.ts';
import { recordActivity } from '../activity/record.ts';
import { putCredential, readCredentialFor } from '../credentials/service.ts';
import { CATALOGUE, type FieldSpec, type IntegrationSpec, secretName, specOf } from './catalogue.ts';
import { type ProbeConfig, probe } from './probes.ts';

type ConfigRow = typeof integrationConfigs.$inferSelect;

function present(spec: IntegrationSpec, row: ConfigRow | undefined, secretsSet: string[]) {
  return {
    kind: spec.kind,
    name: spec.name,
    category: spec.category,
    description: spec.description,
    status: row ? row.status : ('not_configured' as const),
    settings: row ? row.settings : {},
    secrets_set: secretsSet,
    fields: spec.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      secret: f.secret ?? false,
      required: f.required ?? false,
      default: f.default ?? null,
      description: f.description ?? null,
    })),
    one_of: spec.oneOf ?? null,
    last_checked_at: iso(row?.lastCheckedAt),
    last_error: row?.lastError ?? null,
    configured_at: iso(row?.createdAt),
    updated_at: iso(row?.updatedAt),
  };
}

function specOr404(kind: string): IntegrationSpec {
  const spec = specOf(kind);
  if (!spec) throw notFound('Integration');
  return spec;
}

/** Which secret fields of which integrations have a value in the vault (names only: nothing is decrypted). */
async function secretsSet(ctx: Ctx, kinds: string[]): Promise<Map<string, string[]>> {
  const rows = await ctx.db
    .select({ name: credentials.name, integration: credentials.integration })
    .from(credentials)
    .where(and(eq(credentials.orgId, requireOrg(ctx)), inArray(credentials.integration, kinds)));
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const spec = specOf(r.integration ?? '');
    const field = spec?.fields.find((f) => f.secret && secretName(spec.kind, f.name) === r.name);
    if (spec && field) out.set(spec.kind, [...(out.get(spec.kind) ?? []), field.name]);
  }
  return out;
}

async function configRow(ctx: Ctx, kind: string, forUpdate = false): Promise<ConfigRow | undefined> {
  const q = ctx.db
    .select()
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.orgId, requireOrg(ctx)), eq(integrationConfigs.kind, kind)));
  const [row] = forUpdate ? await q.for('update') : await q;
  return row;
}

export async function listIntegrations(ctx: Ctx) {
  const rows = await ctx.db
    .select()
    .from(integrationConfigs)
    .where(eq(integrationConfigs.orgId, requireOrg(ctx)));
  const secrets = await secretsSet(
    ctx,
    CATALOGUE.map((s) => s.kind),
  );
  const data = CATALOGUE.map((spec) =>
    present(
      spec,
      rows.find((r) => r.kind === spec.kind),
      secrets.get(spec.kind) ?? [],
    ),
  );
  // The whole catalogue is one page.
  return { data, meta: { limit: data.length, next_cursor: null, has_more: false } };
}

export async function integrationStatus(ctx: Ctx, kind: string) {
  const spec = specOr404(kind);
  const secrets = await secretsSet(ctx, [kind]);
  return present(spec, await configRow(ctx, kind), secrets.get(kind) ?? []);
}

/** A field's value as given, checked against its type; a 400 names `fields.<name>`. */
function coerce(f: FieldSpec, value: unknown): string | number | boolean {
  const bad = (message: string) => invalid(`fields.${f.name}: ${message}`, [{ field: `fields.${f.name}`, location: 'body', message }]);
  switch (f.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('must be true or false');
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) throw bad('must be a whole number from 1 to 65535');
      return value;
    default: {
      if (typeof value !== 'string' || !value.trim()) throw bad('must be a non-empty string');
      if (value.length > 4000) throw bad('must be at most 4000 characters');
      if (f.type === 'url' && !/^https?:\/\/[^\s]+$/i.test(value.trim())) throw bad('must be an http(s) URL');
      return f.secret ? value : value.trim();
    }
  }
}

/**
 * Saves the fields given: a secret one into the vault (`<kind>.<field>`), the others into the settings; `null` clears a
 * field (back to its default). Fields left out keep what they had, so a secret need not be typed again to change a
 * port. The result must hold every required field. Any change makes the status `configured` until tested again.
 */
export async function configureIntegration(ctx: Ctx, input: { kind: string; fields: Record<string, unknown> }) {
  const spec = specOr404(input.kind);
  const orgId = requireOrg(ctx);
  const current = await configRow(ctx, spec.kind, true);
  const settings: Record<string, unknown> = { ...(current?.settings ?? {}) };
  const secretsNow = new Set((await secretsSet(ctx, [spec.kind])).get(spec.kind) ?? []);
  const secretWrites: { field: FieldSpec; value: string | null }[] = [];

  for (const name of Object.keys(input.fields)) {
    if (!spec.fields.some((f) => f.name === name)) {
      throw invalid(`fields.${name}: ${spec.name} has no such field.`, [{ field: `fields.${name}`, location: 'body', message: 'unknown field' }]);
    }
  }
  for (const f of spec.fields) {
    if (!(f.name in input.fields)) continue;
    const raw = input.fields[f.name];
    const value = raw === null ? null : coerce(f, raw);
    if (f.type === 'url' && typeof value === 'string') {
      const check = await checkOutboundUrl(value, { allowPrivate: ctx.services.config.OPSBASE_ALLOW_PRIVATE_NETWORK });
      // A secret URL (a Slack webhook) is not repeated in the message.
      if (!check.ok)
        throw unprocessable(f.secret ? `fields.${f.name}: this URL is refused (${check.reason}).` : check.message, {
          field: `fields.${f.name}`,
          reason: check.reason,
        });
    }
    if (f.secret) {
      secretWrites.push({ field: f, value: value as string | null });
      if (value === null) secretsNow.delete(f.name);
      else secretsNow.add(f.name);
    } else if (value === null) delete settings[f.name];
    else settings[f.name] = value;
  }
  const has = (f: FieldSpec) => (f.secret ? secretsNow.has(f.name) : settings[f.name] !== undefined || f.default !== undefined);
  const missing = spec.fields.filter((f) => f.required && !has(f));
  if (missing.length) {
    throw invalid(
      `${spec.name} needs ${missing.map((f) => `fields.${f.name}`).join(', ')}.`,
      missing.map((f) => ({ field: `fields.${f.name}`, location: 'body', message: 'required' })),
    );
  }
  if (spec.oneOf && !spec.oneOf.some((n) => has(spec.fields.find((f) => f.name === n) as FieldSpec))) {
    throw invalid(`${spec.name} needs one of ${spec.oneOf.map((n) => `fields.${n}`).join(' or ')}.`, [
      { field: `fields.${spec.oneOf[0]}`, location: 'body', message: `one of ${spec.oneOf.join(', ')} is required` },
    ]);
  }

  for (const w of secretWrites) {
    const name = secretName(spec.kind, w.field.name);
    if (w.value === null) await ctx.db.delete(credentials).where(and(eq(credentials.orgId, orgId), eq(credentials.name, name)));
    else await putCredential(ctx, { name, value: w.value, description: `${spec.name}: ${w.field.label}` }, spec.kind);
  }
  const now = new Date();
  const [row] = await ctx.db
    .insert(integrationConfigs)
    .values({ orgId, kind: spec.kind, settings, status: 'configured', configuredBy: ctx.actorId })
    .onConflictDoUpdate({
      target: [integrationConfigs.orgId, integrationConfigs.kind],
      set: { settings, status: 'configured', lastError: null, configuredBy: ctx.actorId, updatedAt: now },
    })
    .returning();
  await recordActivity(ctx, {
    action: 'integration.configured',
    entityType: 'integration',
    entityId: spec.kind,
    metadata: { fields: Object.keys(input.fields) },
  });
  return present(spec, row, [...secretsNow]);
}

/**
 * Calls the service with what is configured and records the outcome (status ok | failing, when, the error). Runs on
 * the pool, not in a transaction: no connection is held while the service answers (up to PROBE_TIMEOUT_MS).
 */
export async function testIntegration(ctx: Ctx, kind: string) {
  const spec = specOr404(kind);
  const orgId = requireOrg(ctx);
  const row = await configRow(ctx, kind);
  if (!row) throw unprocessable(`${spec.name} is not configured: configure it first (integrations.configure).`, { field: 'kind' });
  const config: ProbeConfig = {};
  const secrets: string[] = [];
  for (const f of spec.fields) {
    if (f.secret) {
      const value = await readCredentialFor(
        ctx.db,
        ctx.services.masterKey,
        { orgId, name: secretName(kind, f.name) },
        {
          actorType: ctx.actorType === 'agent' ? 'agent' : ctx.actorType,
          actorId: ctx.actorId,
          purpose: `integrations.test ${kind}`,
          requestId: ctx.requestId,
        },
      );
      if (value !== null) {
        config[f.name] = value;
        secrets.push(value);
      }
    } else {
      config[f.name] = (row.settings[f.name] as ProbeConfig[string]) ?? f.default;
    }
  }
  const started = Date.now();
  const result = await probe(kind, config, secrets, { allowPrivate: ctx.services.config.OPSBASE_ALLOW_PRIVATE_NETWORK });
  const checkedAt = new Date();
  const status = result.ok ? ('ok' as const) : ('failing' as const);
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(integrationConfigs)
      .set({ status, lastCheckedAt: checkedAt, lastError: result.ok ? null : result.message })
      .where(and(eq(integrationConfigs.orgId, orgId), eq(integrationConfigs.kind, kind)));
    await recordActivity(
      { ...ctx, db: tx },
      { action: 'integration.tested', entityType: 'integration', entityId: kind, metadata: { ok: result.ok } },
    );
  });
  return { kind, ok: result.ok, status, message: result.message, latency_ms: checkedAt.getTime() - started, checked_at: checkedAt.toISOString() };
}
