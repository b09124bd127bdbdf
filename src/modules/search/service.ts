// search.global (Orkosi /search: everything the org has, grouped by type, each group its top hits) and
// search.retrieve (BizBasics /org/retrieve: ranked knowledge hits with a highlighted snippet and where each is).
// A group appears only when the caller may read that kind of object: search never shows more than the lists do.
import { and, eq, ilike, isNull, or, type SQL, sql } from 'drizzle-orm';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { forbidden } from '../../core/errors.ts';
import { callerAllows } from '../../core/scopes.ts';
import { together } from '../../db/client.ts';
import { agents } from '../../db/schema/agents.ts';
import { type SearchKind, searchEntries } from '../../db/schema/search.ts';
import { tasks } from '../../db/schema/tasks.ts';
import { isCommonText, rankedQuery } from '../tasks/list.ts';
import { type MatchCount, matchCount } from './backend.ts';
import { searchBackend } from './choose.ts';
import { RANK_CAP } from './postgres-fts.ts';

export type GlobalKind = 'task' | 'agent' | SearchKind;

export interface GlobalHit {
  id: string;
  title: string;
  snippet: string | null;
  /** Where the object is shown in the dashboard. */
  path: string;
  meta: Record<string, unknown>;
}

export interface GlobalGroup {
  kind: GlobalKind;
  total: MatchCount;
  hits: GlobalHit[];
}

const KNOWLEDGE: { kind: SearchKind; scope: string; path: (id: string) => string }[] = [
  { kind: 'document', scope: 'documents:read', path: (id) => `/documents/${id}` },
  { kind: 'file', scope: 'files:read', path: (id) => `/files/${id}` },
  { kind: 'record', scope: 'records:read', path: (id) => `/records/${id}` },
];

const likeAny = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

async function taskGroup(ctx: Ctx, q: string, limit: number): Promise<GlobalGroup> {
  const rows = await rankedQuery(
    ctx.db,
    [eq(tasks.orgId, requireOrg(ctx)), isNull(tasks.archivedAt)],
    q,
    limit,
    0,
    await isCommonText(ctx.db, 'tasks', q),
  );
  return {
    kind: 'task',
    total: matchCount(Number(rows[0]?.n ?? 0), RANK_CAP),
    hits: rows.map(({ task }) => ({
      id: task.id,
      title: task.title,
      snippet: null,
      path: `/tasks/${task.number}`,
      meta: { number: task.number, status: task.status, priority: task.priority },
    })),
  };
}

/** Agents are few per org: a substring of the name, display name or role is enough. */
async function agentGroup(ctx: Ctx, q: string, limit: number): Promise<GlobalGroup> {
  const pattern = likeAny(q);
  const match = or(ilike(agents.name, pattern), ilike(agents.displayName, pattern), ilike(agents.role, pattern)) as SQL;
  const rows = await ctx.db
    .select({
      id: agents.id,
      name: agents.name,
      displayName: agents.displayName,
      role: agents.role,
      status: agents.status,
      n: sql<number>`count(*) over ()`,
    })
    .from(agents)
    .where(and(eq(agents.orgId, requireOrg(ctx)), match))
    .orderBy(agents.name)
    .limit(limit);
  return {
    kind: 'agent',
    total: matchCount(Number(rows[0]?.n ?? 0), Number.MAX_SAFE_INTEGER),
    hits: rows.map((a) => ({
      id: a.id,
      title: a.displayName ?? a.name,
      snippet: null,
      path: `/agents/${a.id}`,
      meta: { name: a.name, role: a.role, status: a.status },
    })),
  };
}

async function knowledgeGroup(ctx: Ctx, kind: SearchKind, path: (id: string) => string, q: string, limit: number): Promise<GlobalGroup> {
  const result = await searchBackend().searchKnowledge(ctx.db, { orgId: requireOrg(ctx), q, kinds: [kind], limit, snippets: true });
  return {
    kind,
    total: result.total,
    hits: result.hits.map((h) => ({ id: h.id, title: h.title, snippet: h.snippet, path: path(h.id), meta: h.meta })),
  };
}

const SCOPE_OF: Record<GlobalKind, string> = {
  task: 'tasks:read',
  agent: 'agents:read',
  document: 'documents:read',
  file: 'files:read',
  record: 'records:read',
};

/** Searching is allowed, reading what it would find is not: say which scope is missing rather than answer nothing. */
function cannotReadAny(kinds: readonly GlobalKind[]) {
  return forbidden(
    `Search only shows what you may read: this needs one of ${kinds.map((k) => `\`${SCOPE_OF[k]}\``).join(', ')} as well as \`search:read\`.`,
  );
}

export async function searchGlobal(ctx: Ctx, input: { q: string; types?: GlobalKind[]; limit: number }) {
  const wants = (kind: GlobalKind) => !input.types?.length || input.types.includes(kind);
  const may = (scope: string) => callerAllows(ctx, scope);
  const groups: (() => Promise<GlobalGroup>)[] = [];
  if (wants('task') && may('tasks:read')) groups.push(() => taskGroup(ctx, input.q, input.limit));
  if (wants('agent') && may('agents:read')) groups.push(() => agentGroup(ctx, input.q, input.limit));
  for (const k of KNOWLEDGE) if (wants(k.kind) && may(k.scope)) groups.push(() => knowledgeGroup(ctx, k.kind, k.path, input.q, input.limit));
  if (!groups.length) throw cannotReadAny(input.types?.length ? input.types : ['task', 'agent', ...KNOWLEDGE.map((k) => k.kind)]);
  return { q: input.q, groups: await together<GlobalGroup[]>(ctx.db, ...groups) };
}

export interface RetrieveInput {
  q: string;
  record_type?: string;
  product?: string;
  limit: number;
  offset?: number;
}

/**
 * Ranked hits over documents, files and records. A record type or product narrows it to records (only records
 * have them), as BizBasics' retrieve does.
 */
export async function retrieve(ctx: Ctx, input: RetrieveInput) {
  const where: SQL[] = [];
  if (input.record_type) where.push(sql`${searchEntries.meta}->>'record_type' = ${input.record_type}`);
  if (input.product) where.push(sql`${searchEntries.meta}->>'source_product' = ${input.product}`);
  const kinds = KNOWLEDGE.filter((k) => callerAllows(ctx, k.scope)).map((k) => k.kind);
  const narrowed: SearchKind[] = where.length ? kinds.filter((k) => k === 'record') : kinds;
  if (!narrowed.length) throw cannotReadAny(where.length ? ['record'] : KNOWLEDGE.map((k) => k.kind));
  const result = await searchBackend().searchKnowledge(ctx.db, {
    orgId: requireOrg(ctx),
    q: input.q,
    kinds: narrowed,
    where,
    limit: input.limit,
    offset: input.offset,
    snippets: true,
  });
  return {
    data: result.hits.map((h) => ({
      kind: h.kind,
      id: h.id,
      title: h.title,
      snippet: h.snippet,
      where: h.meta,
      rank: h.rank,
      matched: h.matched,
      updated_at: h.updated_at,
    })),
    total: result.total,
    meta: { limit: input.limit, has_more: result.has_more },
  };
}
