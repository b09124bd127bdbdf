// `npm run bench -- tasks [--scale S] [--duration S] [--warmup S] [--concurrency N]`: task lists at size. Seeds 1,000,000 tasks
// in one org and 100,000 in each of 9 others (× scale) with set-based SQL on the server's own embedded PostgreSQL,
// then measures p50/p99 through the API of (a) the list filtered by status + assignee, (b) the list with `q`
// (ranked full-text), (c) `next` — and the same SQL run directly on PostgreSQL in the same run, at the same
// concurrency, as the API runs it (the list page prepared, written as JSON by the database; its rows alone are
// printed for reference). The API is called through a lean HTTP/1.1 keep-alive client (bench/lib/http-client.ts); each
// API figure and its SQL are measured in alternating rounds (measurePair), so a drift of the machine falls on both.
// Last line: `ratio tasks: <SQL p99 / API p99 of the filtered list>`.
// Targets (issue 11): API p99 < 50 ms for the list and next, < 100 ms with q; ratio >= 0.6.
//
// Distributions: statuses mostly done (as in a long-lived org), priorities mostly P2, 40 agents with a skewed
// share of the work (10% unassigned), titles and descriptions drawn from a vocabulary with a Zipf-like skew so
// search terms range from rare to common.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { eq, isNull, Placeholder } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Db } from '../src/db/client.ts';
import { tasks } from '../src/db/schema/tasks.ts';
import { expiredPool, todoPool, urgency } from '../src/modules/tasks/claim.ts';
import type { Ctx } from '../src/core/context.ts';
import { Bindings, preparedSql } from '../src/db/prepared.ts';
import {
  bindNewestFirst,
  isCommonText,
  listFilters,
  newestFirstBuilder,
  newestFirstQuery,
  pageJsonSql,
  rankedQuery,
} from '../src/modules/tasks/list.ts';
import { api, cleanUp, cleanUpOnSignals, cpuProfile, createTenant, startOpsbase } from './lib/opsbase.ts';
import { keepAliveGetter } from './lib/http-client.ts';
import { type Figures, fmt, measure, measurePair } from './lib/measure.ts';
import { RUN_TARGETS, runsBench } from './lib/runs-bench.ts';

const TARGETS = { list: 50, next: 50, q: 100, ratio: 0.6 };
const AGENTS = 40;

const VERBS = ['Fix', 'Add', 'Update', 'Remove', 'Refactor', 'Investigate', 'Document', 'Migrate', 'Review', 'Test', 'Deploy', 'Design'];
// Frequent words first: the draw below favours the start of the list.
const WORDS = (
  'the customer page invoice export login report dashboard email billing search api error user account payment ' +
  'order product onboarding checkout cache queue webhook notification settings profile password session mobile ' +
  'import csv pdf chart filter sort timeout latency retry database index migration schema backup restore upload ' +
  'image avatar thumbnail translation locale currency refund subscription plan trial coupon discount tax shipping ' +
  'warehouse inventory supplier contract invoice-number vat audit compliance gdpr consent cookie banner analytics ' +
  'funnel campaign newsletter template landing headline copy creative banner-ad budget bid keyword ranking sitemap ' +
  'redirect canonical crawler robots accessibility contrast keyboard screenreader dropdown modal tooltip sidebar ' +
  'navbar footer breadcrumb pagination infinite-scroll skeleton spinner toast darkmode theme font icon svg ' +
  'animation transition gesture swipe offline sync conflict merge rebase pipeline runner artifact release changelog ' +
  'semver hotfix rollback canary feature-flag experiment cohort retention churn nps survey feedback ticket sla ' +
  'escalation oncall pager incident postmortem runbook alert threshold metric trace span log rotation quota ' +
  'throttle ratelimit captcha spam fraud chargeback dispute kyc identity sso saml oauth token scope permission role'
).split(' ');
// Terms from the middle of the real words (in 0.5–3% of tasks each), as people search: one or two words.
const QUERY_TERMS = ['refund', 'webhook retry', 'subscription', 'sitemap', 'oauth token', 'warehouse', 'canary release', 'dispute'];

/**
 * The vocabulary: the real words above, most frequent first, then pseudo-words for the long tail real text has
 * (a vocabulary of a few hundred words would put every word in a tenth of the documents).
 */
function vocabulary(): string[] {
  const syl = ['ba', 'ko', 'ri', 'mu', 'te', 'sa', 'lo', 'ne', 'vi', 'da', 'pe', 'zu', 'ha', 'fo', 'gi', 'ty', 'qua', 'ex'];
  const tail: string[] = [];
  for (const a of syl) for (const b of syl) for (const c of syl) if (tail.length < 4800) tail.push(a + b + c);
  return [...WORDS, ...tail];
}

/** Word number k of a text: skewed to the start of the vocabulary (a Zipf-like head, a long tail). */
const DRAW = (v: number) => `($1::text[])[1 + floor(${v} * power(random(), 2))::int]`;

/** 20,000 phrases of 12 words and 20,000 titles of 3 words, drawn once; tasks combine them by hashes of their number. */
const PHRASES_SQL = (v: number) => `
create temp table seed_phrases as
  select i, (select string_agg(${DRAW(v)}, ' ') from generate_series(1, 12) k where k > 0 * i) as t from generate_series(0, 19999) i;
create temp table seed_titles as
  select i, (select string_agg(${DRAW(v)}, ' ') from generate_series(1, 3) k where k > 0 * i) as t from generate_series(0, 19999) i;
create unique index on seed_phrases (i);
create unique index on seed_titles (i);`;

/** One chunk of one org's tasks ($1 org, $2..$3 numbers, $4 the org's total). */
const SEED_SQL = `
insert into tasks (id, org_id, number, title, title_key, description, type, status, priority, assignee_type, assignee_id,
                   tags, created_by_type, created_at, updated_at, completed_at)
select id, $1, g, title, lower(title), description, type, status, priority,
       case when agent is null then null else 'agent' end, agent, tags, 'system', created, created,
       case when status = 'done' then created + interval '2 days' end
from (
  select g,
    -- Time-sortable like real ids (every org spread over the same two years, so orgs interleave), made unique by a hash.
    'task_' || lpad((extract(epoch from created) * 1000)::bigint::text, 14, '0') || substr(md5($1 || g::text), 1, 12) as id,
    (array[${VERBS.map((v) => `'${v}'`).join(',')}])[1 + (g * 7) % ${VERBS.length}] || ' ' || tt.t || ' #' || g as title,
    p1.t || '. ' || p2.t || '. ' || p3.t || '.' as description,
    (array['feature','bug','research','ops','infra','content','other'])[1 + (g * 13) % 7] as type,
    case when r1 < 0.55 then 'done' when r1 < 0.60 then 'cancelled' when r1 < 0.75 then 'todo' when r1 < 0.85 then 'backlog'
         when r1 < 0.93 then 'in_progress' when r1 < 0.97 then 'in_review' else 'blocked' end as status,
    case when r2 < 0.05 then 'P0' when r2 < 0.25 then 'P1' when r2 < 0.75 then 'P2' else 'P3' end as priority,
    case when r3 < 0.10 then null else ($5::text[])[1 + floor(${AGENTS} * power(random(), 1.6))::int] end as agent,
    case when r2 < 0.3 then array['billing'] when r2 < 0.4 then array['growth', 'web'] else '{}'::text[] end as tags,
    created
  from (select g, random() as r1, random() as r2, random() as r3,
               now() - interval '730 days' * (1 - g::float8 / $4) as created
        from generate_series($2::int, $3::int) g) s
  join seed_titles tt on tt.i = abs(hashint4(g + 17)) % 20000
  join seed_phrases p1 on p1.i = abs(hashint4(g)) % 20000
  join seed_phrases p2 on p2.i = abs(hashint4(g + 1000003)) % 20000
  join seed_phrases p3 on p3.i = abs(hashint4(g + 2000003)) % 20000
) x`;

export default async function tasksBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      duration: { type: 'string', default: '8' },
      // Uncounted seconds of each figure's calls first, API and SQL in turn. The server's first seconds under load are
      // slower than its steady state: the list's p99 by round was 18.7, 16.6, 10.8, 10.1 ms after a 1 s warm-up.
      warmup: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '4' },
      explain: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1000' },
      // Writes the server's V8 CPU profile to this directory (for finding where a request's time goes).
      'cpu-prof': { type: 'string' },
      // Keeps the seeded server up after the figures (until Ctrl-C) to look at plans and requests by hand.
      hold: { type: 'boolean', default: false },
    },
  });
  const scale = Number(values.scale);
  const seconds = Number(values.duration);
  const warmupSeconds = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  if (!(scale > 0 && scale <= 1) || !(seconds > 0) || !(warmupSeconds >= 0) || !(concurrency >= 1)) {
    throw new Error('--scale in (0, 1], --duration > 0, --warmup >= 0, --concurrency >= 1');
  }
  const big = Math.round(1_000_000 * scale);
  const small = Math.round(100_000 * scale);
  cleanUpOnSignals();
  const [load1] = loadavg();
  console.log(
    `tasks: scale ${scale} (${big.toLocaleString('en-US')} tasks in one org, ${small.toLocaleString('en-US')} in each of 9 others); ` +
      `${concurrency} concurrent callers, ${seconds} s per figure; Node ${process.version}, ${availableParallelism()} CPUs, load ${load1.toFixed(2)}`,
  );
  const started = Date.now();
  try {
    const o = await startOpsbase(cpuProfile(values['cpu-prof']));
    // The first account is the instance admin (it grants the runs' credits).
    const admin = await createTenant(o.base);
    const main = await createTenant(o.base);
    const others = [];
    for (let i = 0; i < 9; i++) others.push(await createTenant(o.base));
    // Each org's agents agent-1 … agent-40 (real agents: an agent assignee must be one), created through the API on
    // the business tier (50 agents; the free tier allows 2).
    const agentIds = new Map<string, string[]>();
    for (const t of [main, ...others]) {
      await api(o.base, 'POST', '/api/v1/billing/change-plan', { tier: 'business' }, { authorization: `Bearer ${t.key}` });
      const ids: string[] = [];
      for (let i = 1; i <= AGENTS; i++) {
        const res = await fetch(`${o.base}/api/v1/agents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `agent-${i}` }),
        });
        if (res.status !== 201) throw new Error(`agents.create: ${res.status} ${await res.text()}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
      agentIds.set(t.orgId, ids);
    }
    const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: Math.max(4, concurrency) });
    const db = drizzle(pool) as unknown as Db;

    // Seed: secondary indexes off while loading (built once at the end, as a bulk load would), one chunk per statement.
    const t0 = Date.now();
    const client = await pool.connect();
    const { rows: idx } = await client.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where tablename = 'tasks' and indexname <> 'tasks_pkey'`,
    );
    for (const i of idx) await client.query(`drop index ${i.indexname}`);
    const words = vocabulary();
    await client.query(PHRASES_SQL(words.length).replaceAll('$1::text[]', `'{${words.join(',')}}'::text[]`));
    const orgs = [{ orgId: main.orgId, n: big }, ...others.map((t) => ({ orgId: t.orgId, n: small }))];
    for (const org of orgs) {
      for (let from = 1; from <= org.n; from += 100_000) {
        await client.query(SEED_SQL, [org.orgId, from, Math.min(org.n, from + 99_999), org.n, agentIds.get(org.orgId)]);
      }
      await client.query(`insert into task_counters (org_id, last_number, day, created_today) values ($1, $2, '2000-01-01', 0)`, [org.orgId, org.n]);
    }
    const seeded = Date.now();
    await client.query(`set maintenance_work_mem = '256MB'`);
    for (const i of idx) await client.query(i.indexdef);
    // Vacuumed as well as analyzed, as after any bulk load: otherwise autovacuum's first pass over the new rows (a
    // minute of I/O and CPU) lands in the middle of the figures.
    await client.query('vacuum (analyze) tasks');
    // And its dirty pages written out now, not by a checkpoint in the middle of the first figure.
    await client.query('checkpoint');
    // What the maintenance job does every 10 minutes: which words are common, for the search's choice of path.
    await client.query(`select opsbase_refresh_term_stats('tasks', 'tsv')`);
    client.release();
    const total = big + 9 * small;
    console.log(
      `seeded ${total.toLocaleString('en-US')} tasks in ${((seeded - t0) / 1000).toFixed(1)} s, indexes built in ${((Date.now() - seeded) / 1000).toFixed(1)} s`,
    );

    const getter = keepAliveGetter(o.base, { authorization: `Bearer ${main.key}` });
    const get = async (path: string) => {
      const res = await getter(path);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.body.slice(0, 300)}`);
    };
    const agent = (i: number) => `agent-${1 + ((i * 7) % AGENTS)}`;
    const agentId = (i: number) => (agentIds.get(main.orgId) ?? [])[(i * 7) % AGENTS];
    const term = (i: number) => QUERY_TERMS[i % QUERY_TERMS.length];
    const orgId = main.orgId;

    // The API's own query builders, so the SQL baseline is the very SQL the API runs, run as the API runs it: the
    // list page as one prepared statement (db/prepared.ts) that writes the page as JSON and reads the daily quota's
    // counter. Printed beside it for reference, not in the ratio: the page's rows alone, as objects (the SQL of the
    // list before the database wrote its JSON), prepared.
    const baseWhere = [eq(tasks.orgId, orgId), isNull(tasks.archivedAt)];
    const listBound = async (i: number) => {
      const b = new Bindings();
      const input = { status: 'todo,in_progress', assignee: `agent:${agent(i)}`, limit: 50 };
      const { where, statuses } = await listFilters({ orgId, auth: null } as unknown as Ctx, input, b);
      return { b, bound: bindNewestFirst(b, where, statuses, { limit: 51, offset: 0 }) };
    };
    const listSql = async (i: number) => {
      const { b, bound } = await listBound(i);
      const size = b.bind('page_size', 50);
      return preparedSql(db, 'tasks_page', b, () => pageJsonSql(db, bound, size)).execute(b.values);
    };
    const listRows = async (i: number) => {
      const { b, bound } = await listBound(i);
      await newestFirstQuery(db, b, bound).execute(b.values);
    };
    // The API's two steps: is the word common (one look-up), then the ranked page.
    const qSql = async (i: number) => rankedQuery(db, baseWhere, term(i), 51, 0, await isCommonText(db, 'tasks', term(i)));
    const who = (i: number) => ({ type: 'agent' as const, id: agentId(i) });
    const nextSql = (i: number) =>
      Promise.all([
        db
          .select()
          .from(tasks)
          .where(todoPool(orgId, who(i), false))
          .orderBy(...urgency)
          .limit(1),
        db
          .select()
          .from(tasks)
          .where(expiredPool(orgId, who(i), false))
          .orderBy(...urgency)
          .limit(1),
      ]);

    if (values.explain) {
      const next = db
        .select()
        .from(tasks)
        .where(todoPool(orgId, who(0), false))
        .orderBy(...urgency)
        .limit(1);
      const { b, bound } = await listBound(0);
      const list = newestFirstBuilder(db, bound);
      for (const [name, q, values] of [
        ['list', list, b.values],
        ['q', rankedQuery(db, baseWhere, term(0), 51, 0, await isCommonText(db, 'tasks', term(0))), {}],
        ['next', next, {}],
      ] as const) {
        const { sql: text, params } = q.toSQL();
        const filled = params.map((p) => (p instanceof Placeholder ? (values as Record<string, unknown>)[p.name] : p));
        const plan = await pool.query(`explain (analyze, buffers) ${text}`, filled);
        console.log(`-- ${name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
      }
    }
    const figures: Record<string, { api: Figures; sql: Figures }> = {};
    const pairs: [string, (i: number) => Promise<void>, (i: number) => Promise<unknown>][] = [
      ['list status+assignee', (i) => get(`/api/v1/tasks?status=todo,in_progress&assignee=agent:${agent(i)}&limit=50`), listSql],
      ['list q', (i) => get(`/api/v1/tasks?q=${encodeURIComponent(term(i))}&limit=50`), qSql],
      ['next', (i) => get(`/api/v1/tasks/next?assignee=agent:${agent(i)}`), nextSql],
    ];
    for (const [name, viaApi, viaSql] of pairs) {
      const [apiF, sqlF] = await measurePair(
        [`API ${name}`, `SQL ${name}`],
        seconds,
        concurrency,
        viaApi,
        async (i) => {
          await viaSql(i);
        },
        { warmupSeconds },
      );
      figures[name] = { api: apiF, sql: sqlF };
      console.log(fmt(apiF));
      console.log(fmt(sqlF));
      if (viaSql === listSql) {
        const rows = await measure(`SQL ${name}, rows only (reference)`, seconds, concurrency, listRows);
        console.log(fmt(rows));
        console.log(`  (for reference: SQL rows-only p99 / API p99 = ${(rows.p99 / apiF.p99).toFixed(2)})`);
      }
    }
    await pool.end();
    if (values.hold) {
      console.log(`holding: API ${o.base} (key ${main.key}, org ${main.orgId}), database ${o.databaseUrl()} — Ctrl-C to stop`);
      await new Promise(() => {});
    }

    const runCount = Number(values.runs);
    const runs = runCount > 0 ? await runsBench(o, admin, await createTenant(o.base), runCount, concurrency) : undefined;
    if (runs) {
      console.log(`runs (offline model, 1 worker): ${runCount} runs, ${runs.failed} not succeeded`);
      console.log(`  run queued → finished        p50 ${runs.runP50.toFixed(2)} ms  p99 ${runs.runP99.toFixed(2)} ms (one at a time)`);
      console.log(
        `  phases p50: queued → started ${runs.phases.pickup.toFixed(2)} ms (→ claimed ${runs.phases.claim.toFixed(2)}, → started ${runs.phases.begin.toFixed(2)}), started → model answered and run finished ${runs.phases.work.toFixed(2)} ms`,
      );
      console.log(`  slowest: ${runs.slowest}`);
      console.log(`  bare queue job submit → done p50 ${runs.jobP50.toFixed(2)} ms`);
      console.log(`  throughput ${runs.runsPerSecond.toFixed(1)} runs/s (queued by ${concurrency} callers at once)`);
    }

    const list = figures['list status+assignee'];
    const ratio = list.sql.p99 / list.api.p99;
    const check = (label: string, value: number, target: number) =>
      console.log(`target ${label} p99 < ${target} ms: ${value < target ? 'PASS' : 'FAIL'} (${value.toFixed(2)} ms)`);
    check('API list status+assignee', list.api.p99, TARGETS.list);
    check('API list q', figures['list q'].api.p99, TARGETS.q);
    check('API next', figures.next.api.p99, TARGETS.next);
    console.log(`target SQL/API p99 of the filtered list >= ${TARGETS.ratio}: ${ratio >= TARGETS.ratio ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`);
    if (runs) {
      const ok = runs.overheadP50 < RUN_TARGETS.overheadP50Ms;
      console.log(
        `target run overhead p50 (run − bare job) < ${RUN_TARGETS.overheadP50Ms} ms: ${ok ? 'PASS' : 'FAIL'} (${runs.overheadP50.toFixed(2)} ms)`,
      );
      if (runs.failed) throw new Error(`${runs.failed} runs did not succeed: the figures are not valid`);
    }
    const errors = Object.values(figures)
      .flatMap((f) => [f.api, f.sql])
      .reduce((n, f) => n + f.errors, 0);
    if (errors) throw new Error(`${errors} calls failed: the figures are not valid`);
    console.log(`total run time ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`ratio tasks: ${ratio.toFixed(2)}`);
  } finally {
    await cleanUp();
  }
}
