// `npm run bench -- search [--scale S] [--duration S] [--concurrency N]`: knowledge search at size (issue 12).
// Seeds 1,000,000 documents in one org and 1,000,000 spread over 50 other orgs (× scale) into the search index with
// set-based SQL on the server's own embedded PostgreSQL — bodies of 60 words drawn from a Zipf-like vocabulary (a
// word's share of documents falls as 1/rank), so terms range from rare to very common. It picks rare (60–600
// matching documents at scale 1), medium (2k–30k) and very common (50k–250k) terms by counting, then measures p50/p99
// of `search.retrieve` top-20 with snippets through the API, and of the same query as plain `ts_rank` SQL with no cap
// (the naive baseline), in the same run. Targets through the API: p99 <= 30 ms rare, <= 80 ms medium, <= 150 ms
// common. The API is called through node:http keep-alive sockets (bench/lib/http-client.ts). Last line:
// `ratio search: <naive common p99 / API common p99>`.
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { keepAliveGetter } from './lib/http-client.ts';
import { type Figures, fmt, measure } from './lib/measure.ts';
import { api, cleanUp, cleanUpOnSignals, cpuProfile, createTenant, startOpsbase } from './lib/opsbase.ts';

const TARGETS = { rare: 30, medium: 80, common: 150 };
const OTHER_ORGS = 50;
const WORDS = (
  'customer invoice refund policy order payment shipping account support contract renewal pricing discount ' +
  'product release feature roadmap meeting agenda notes review budget forecast revenue expense vendor supplier ' +
  'onboarding training handbook security access password incident report analysis campaign launch marketing ' +
  'sales lead pipeline deal quote proposal template checklist process workflow approval request ticket escalation ' +
  'warranty return exchange delivery warehouse inventory stock catalog subscription trial upgrade downgrade cancel ' +
  'billing tax receipt statement audit compliance privacy consent retention backup recovery outage maintenance ' +
  'deployment server database integration webhook token credential permission role team manager director employee ' +
  'hiring interview candidate offer payroll benefit leave holiday schedule calendar deadline milestone objective ' +
  'metric dashboard survey feedback complaint satisfaction churn segment persona newsletter headline landing'
).split(' ');

/** The vocabulary: the real words, most frequent first, then pseudo-words for the long tail real text has. */
function vocabulary(size: number): string[] {
  const syl = ['ba', 'ko', 'ri', 'mu', 'te', 'sa', 'lo', 'ne', 'vi', 'da', 'pe', 'zu', 'ha', 'fo', 'gi', 'ty', 'qua', 'ex'];
  const words = [...WORDS];
  for (const a of syl) for (const b of syl) for (const c of syl) for (const d of syl) if (words.length < size) words.push(a + b + c + d);
  return words;
}
const VOCABULARY = 60_000;

/** A word drawn log-uniformly over the vocabulary: rank k is drawn with probability ~ 1/k (Zipf's law). */
const DRAW = `($1::text[])[least(${VOCABULARY}, floor(exp(random() * ln(${VOCABULARY} + 1)))::int)]`;

/** 50,000 phrases of 12 words and 20,000 titles of 4 words, drawn once; documents combine them by hashes. */
const PHRASES_SQL = `
create table if not exists bench_phrases as
  select i, (select string_agg(${DRAW}, ' ') from generate_series(1, 12) k where k > 0 * i) as t from generate_series(0, 49999) i;
create table if not exists bench_titles as
  select i, (select string_agg(${DRAW}, ' ') from generate_series(1, 4) k where k > 0 * i) as t from generate_series(0, 19999) i;
create unique index if not exists bench_phrases_i on bench_phrases (i);
create unique index if not exists bench_titles_i on bench_titles (i);`;

/** Documents $2..$3 of org $1 (5 phrases: 60 words; ids unique per org and number). */
const SEED_SQL = `
insert into search_entries (org_id, kind, object_id, title, body, meta, updated_at)
select $1, 'document', 'doc_' || substr(md5($1 || g::text), 1, 24), initcap(tt.t),
       p1.t || '. ' || p2.t || '. ' || p3.t || '. ' || p4.t || '. ' || p5.t || '.',
       jsonb_build_object('folder', 'Folder ' || (g % 40)), now() - make_interval(secs => g)
from generate_series($2::int, $3::int) g
join bench_titles tt on tt.i = abs(hashint4(g + 17)) % 20000
join bench_phrases p1 on p1.i = abs(hashint4(g)) % 50000
join bench_phrases p2 on p2.i = abs(hashint4(g + 1000003)) % 50000
join bench_phrases p3 on p3.i = abs(hashint4(g + 2000003)) % 50000
join bench_phrases p4 on p4.i = abs(hashint4(g + 3000017)) % 50000
join bench_phrases p5 on p5.i = abs(hashint4(g + 4000037)) % 50000`;

const NAIVE_SQL = `select object_id, ts_rank(tsv, q) as rank from search_entries, plainto_tsquery('english', $2) q
  where org_id = $1 and tsv @@ q order by rank desc limit 20`;

export default async function searchBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      duration: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '4' },
      // Keeps the seeded server up after the figures (until Ctrl-C) to look at plans by hand.
      hold: { type: 'boolean', default: false },
      // Writes the server's V8 CPU profile to this directory (for finding where a request's time goes).
      'cpu-prof': { type: 'string' },
    },
  });
  const scale = Number(values.scale);
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  if (!(scale > 0 && scale <= 1) || !(seconds > 0) || !(concurrency >= 1)) throw new Error('--scale in (0, 1], --duration > 0, --concurrency >= 1');
  const big = Math.round(1_000_000 * scale);
  const perOther = Math.round((1_000_000 * scale) / OTHER_ORGS);
  cleanUpOnSignals();
  const [load1] = loadavg();
  console.log(
    `search: scale ${scale} (${big.toLocaleString('en-US')} documents in one org, ${perOther.toLocaleString('en-US')} in each of ${OTHER_ORGS} others); ` +
      `${concurrency} concurrent callers, ${seconds} s per figure; Node ${process.version}, ${availableParallelism()} CPUs, load ${load1.toFixed(2)}`,
  );
  try {
    const o = await startOpsbase(cpuProfile(values['cpu-prof']));
    const main = await createTenant(o.base);
    // The free tier's 10,000 API calls a month would run out within the figures: the business tier has no such quota.
    await api(o.base, 'POST', '/api/v1/billing/change-plan', { tier: 'business' }, { authorization: `Bearer ${main.key}` });
    const others = [];
    for (let i = 0; i < OTHER_ORGS; i++) others.push(await createTenant(o.base));
    const pool = new pg.Pool({ connectionString: o.databaseUrl(), max: Math.max(4, concurrency) });

    // Seed: the search indexes off while loading (built once at the end, as a bulk load would), two loaders at once.
    const t0 = Date.now();
    const { rows: idx } = await pool.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes where tablename = 'search_entries' and indexdef ilike '%using gin%'`,
    );
    for (const i of idx) await pool.query(`drop index ${i.indexname}`);
    const words = `{${vocabulary(VOCABULARY).join(',')}}`;
    const setup = await pool.connect();
    for (const statement of PHRASES_SQL.split(';').filter((s) => s.trim())) await setup.query(statement, statement.includes('$1') ? [words] : []);
    setup.release();
    const chunks: [string, number, number][] = [];
    for (let from = 1; from <= big; from += 50_000) chunks.push([main.orgId, from, Math.min(big, from + 49_999)]);
    for (const t of others) chunks.push([t.orgId, 1, perOther]);
    const loader = async () => {
      for (let c = chunks.shift(); c; c = chunks.shift()) await pool.query(SEED_SQL, c);
    };
    await Promise.all([loader(), loader()]);
    const seeded = Date.now();
    await pool.query(`set maintenance_work_mem = '512MB'`);
    for (const i of idx) await pool.query(i.indexdef);
    // Vacuumed as well as analyzed, as after any bulk load: otherwise autovacuum's first pass over the new rows (a
    // minute of I/O and CPU) lands in the middle of the figures.
    await pool.query('vacuum (analyze) search_entries');
    // And its dirty pages written out now, not by a checkpoint in the middle of the first figure.
    await pool.query('checkpoint');
    // What the maintenance job does every 10 minutes: which words are common, for the search's choice of path.
    await pool.query(`select opsbase_refresh_term_stats('search_entries', 'tsv')`);
    await pool.query('drop table bench_phrases, bench_titles');
    console.log(
      `seeded ${(big + perOther * OTHER_ORGS).toLocaleString('en-US')} documents in ${((seeded - t0) / 1000).toFixed(1)} s, ` +
        `search indexes built in ${((Date.now() - seeded) / 1000).toFixed(1)} s`,
    );

    // Terms by how many of the big org's documents hold them, counted (once, here) rather than assumed.
    const count = async (w: string) =>
      Number(
        (await pool.query(`select count(*) from search_entries where org_id = $1 and tsv @@ plainto_tsquery('english', $2)`, [main.orgId, w])).rows[0]
          .count,
      );
    const bands = { rare: [60, 600], medium: [2_000, 30_000], common: [50_000, 250_000] } as const;
    const picked: Record<keyof typeof bands, string[]> = { rare: [], medium: [], common: [] };
    const vocab = vocabulary(VOCABULARY);
    // Rank k holds about 5.5/k of the documents: look around the ranks each band expects.
    const probe: Record<keyof typeof bands, number[]> = {
      common: [3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100],
      medium: [300, 500, 800, 1200, 1600, 2000, 2400, 2800, 3200],
      rare: [12_000, 18_000, 25_000, 32_000, 40_000, 48_000, 55_000, 59_000],
    };
    for (const band of Object.keys(bands) as (keyof typeof bands)[]) {
      const [lo, hi] = bands[band].map((n) => n * scale);
      for (const rank of probe[band]) {
        if (picked[band].length === 3) break;
        const n = await count(vocab[rank - 1]);
        if (n >= lo && n <= hi) picked[band].push(vocab[rank - 1]);
        console.log(`  ${band.padEnd(6)} candidate "${vocab[rank - 1]}" (rank ${rank}): ${n.toLocaleString('en-US')} documents`);
      }
      if (!picked[band].length) throw new Error(`no ${band} term found in ${lo}–${hi} documents`);
    }
    console.log(`terms: ${Object.entries(picked).map(([b, t]) => `${b} ${t.join(', ')}`).join('; ')}`);

    const get = keepAliveGetter(o.base, { authorization: `Bearer ${main.key}` });
    const figures: Record<string, { api: Figures; naive: Figures }> = {};
    for (const band of Object.keys(picked) as (keyof typeof bands)[]) {
      const term = (i: number) => picked[band][i % picked[band].length];
      const api = await measure(`API retrieve top-20 + snippets, ${band}`, seconds, concurrency, async (i) => {
        const res = await get(`/api/v1/org/retrieve?q=${encodeURIComponent(term(i))}&limit=20`);
        const body = JSON.parse(res.body) as { data?: unknown[] };
        if (res.status !== 200 || !body.data?.length) throw new Error(`retrieve: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      });
      const naive = await measure(`SQL ts_rank, no cap (naive), ${band}`, seconds, concurrency, async (i) => {
        await pool.query(NAIVE_SQL, [main.orgId, term(i)]);
      });
      figures[band] = { api, naive };
      console.log(fmt(api));
      console.log(fmt(naive));
    }
    await pool.end();
    if (values.hold) {
      console.log(`holding: API ${o.base} (key ${main.key}, org ${main.orgId}), database ${o.databaseUrl()} — Ctrl-C to stop`);
      await new Promise(() => {});
    }

    for (const band of Object.keys(TARGETS) as (keyof typeof TARGETS)[]) {
      const p99 = figures[band].api.p99;
      console.log(`target API ${band} p99 <= ${TARGETS[band]} ms: ${p99 <= TARGETS[band] ? 'PASS' : 'FAIL'} (${p99.toFixed(2)} ms)`);
    }
    console.log(`ratio search: ${(figures.common.naive.p99 / figures.common.api.p99).toFixed(2)}`);
  } finally {
    await cleanUp();
  }
}
