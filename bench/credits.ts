// `npm run bench -- credits` (issue 3): the cost of the credits ledger against what the same PostgreSQL does on
// its own. One embedded PostgreSQL in a temp dir (default, durable settings), then, each for 10 s after an
// uncounted 2 s warm-up:
//   (a) `pgbench -N` (the built-in simple-update script) with 16 clients — TPS;
//   (b) hold+commit pairs per second through the service layer: 16 concurrent workers on ONE org's wallet, each
//       pair = runPaid() of a paid no-op: reserve, the action's transaction committing the hold, the posting;
//   (a) and (b) alternate for 3 rounds (on a shared machine both swing by ±20 % from one 10 s run to the next), and
//       the ratio is of their medians;
//   (c) the same through HTTP: a paid no-op operation (cost 1) on the real app (createApp, child process),
//       16 concurrent connections.
// The ledger invariant is checked after each phase (violations must be 0). Then diagnostics for the report: lock
// waits sampled from pg_stat_activity during (b), one worker alone (latency and round trips per pair), and 16
// workers on 16 orgs (no shared balance row). Last line: `ratio credits: <median b / median a>` (target >= 0.5).
//
// Options: --duration S (10), --warmup S (2), --clients N (16), --rounds N (3), --skip-http, --skip-diagnostics,
// --pg name=value (a PostgreSQL setting, repeatable; for experiments such as --pg synchronous_commit=off).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { connect, type Database } from '../src/db/client.ts';
import { startEmbedded } from '../src/db/embedded.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createLogger } from '../src/http/logger.ts';
import { credit } from '../src/modules/billing/ledger.ts';
import { runPaid } from '../src/modules/billing/paid.ts';
import { newId } from '../src/core/ids.ts';
import { benchPaid } from './lib/paid-op.ts';
import { cleanUp, cleanUpOnSignals, createTenant, onCleanup, ROOT, sleep, startListening, tempDataDir } from './lib/opsbase.ts';
import { percentile } from './lib/measure.ts';

const TARGET = 0.5;


const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

// ---- (a) pgbench ---------------------------------------------------------------------------------------------

function findPgbench(): string | undefined {
  for (const p of ['/usr/bin/pgbench', '/usr/local/bin/pgbench']) if (existsSync(p)) return p;
  try {
    return (
      execFileSync('sh', ['-c', 'command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1'])
        .toString()
        .trim()
        .split('\n')[0] || undefined
    );
  } catch {
    return undefined;
  }
}

function pgEnv(url: string, database: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return {
    ...process.env,
    PGHOST: u.hostname,
    PGPORT: u.port,
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: database,
  };
}

function runPgbench(bin: string, env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`pgbench ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

interface Baseline {
  label: string;
  /** TPS of one measured run (after its own uncounted warm-up). */
  run: (seconds: number, warmup: number) => Promise<number>;
  /** TPS of one client alone, for the diagnostics. */
  oneClient?: () => Promise<number>;
}

/** (a): pgbench's built-in simple-update script (-N) on a scale-10 database of its own, or a stand-in without it. */
async function prepareBaseline(url: string, clients: number): Promise<Baseline> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('create database pgbench_bench');
  await admin.end();
  const bin = findPgbench();
  if (!bin) {
    console.log('note: pgbench not found (apt-get install postgresql-client); (a) is a STAND-IN: single-row UPDATEs via `pg`');
    return standIn(url.replace(/\/postgres$/, '/pgbench_bench'), clients);
  }
  const env = pgEnv(url, 'pgbench_bench');
  await runPgbench(bin, env, ['-i', '-q', '-s', '10']);
  const threads = String(Math.max(1, Math.min(clients, availableParallelism())));
  const tpsOf = (text: string) => {
    const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(text) ?? /tps = ([\d.]+)/.exec(text);
    if (!m) throw new Error(`could not read the TPS from pgbench's output:\n${text}`);
    return Number(m[1]);
  };
  return {
    label: `${bin} -N -c ${clients} -j ${threads} (scale 10)`,
    run: async (seconds, warmup) => {
      if (warmup > 0) await runPgbench(bin, env, ['-N', '-c', String(clients), '-j', threads, '-T', String(warmup)]);
      return tpsOf(await runPgbench(bin, env, ['-N', '-c', String(clients), '-j', threads, '-T', String(seconds)]));
    },
    // One client alone: the latency of one durable single-row transaction.
    oneClient: async () => tpsOf(await runPgbench(bin, env, ['-N', '-c', '1', '-T', '3'])),
  };
}

/** When pgbench is missing: what -N does per transaction (one UPDATE of a random account + a history row). */
async function standIn(url: string, clients: number): Promise<Baseline> {
  const pool = new pg.Pool({ connectionString: url, max: clients });
  onCleanup(() => pool.end());
  await pool.query('create table pgbench_accounts (aid int primary key, bid int, abalance int, filler char(84))');
  await pool.query('create table pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))');
  await pool.query(`insert into pgbench_accounts select g, 1, 0, '' from generate_series(1, 1000000) g`);
  await pool.query('vacuum analyze pgbench_accounts');
  const loop = async (ms: number) => {
    let n = 0;
    const end = Date.now() + ms;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = await pool.connect();
        try {
          while (Date.now() < end) {
            const aid = 1 + Math.floor(Math.random() * 1_000_000);
            const delta = Math.floor(Math.random() * 10001) - 5000;
            await c.query('begin');
            await c.query('update pgbench_accounts set abalance = abalance + $1 where aid = $2', [delta, aid]);
            await c.query('select abalance from pgbench_accounts where aid = $1', [aid]);
            await c.query('insert into pgbench_history (tid, bid, aid, delta, mtime) values (1, 1, $1, $2, current_timestamp)', [aid, delta]);
            await c.query('commit');
            n++;
          }
        } finally {
          c.release();
        }
      }),
    );
    return n;
  };
  return {
    label: 'stand-in: pg single-row UPDATE loop',
    run: async (seconds, warmup) => {
      if (warmup > 0) await loop(warmup * 1000);
      const t0 = performance.now();
      const n = await loop(seconds * 1000);
      return n / ((performance.now() - t0) / 1000);
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- the ledger invariant ------------------------------------------------------------------------------------

/** Violations of DESIGN §6 for one org's credits, plus: every counted pair committed, no hold left open. */
async function violations(database: Database, orgIds: string[], expectedCommits: number): Promise<string[]> {
  const v: string[] = [];
  // Settlements are posted asynchronously (within ~50 ms of the last pair): let them land before counting.
  for (let i = 0; i < 100; i++) {
    const { rows } = await database.pool.query(
      `select count(*)::int as n from holds where org_id = any($1) and status <> 'open' and posted_at is null`,
      [orgIds],
    );
    if (rows[0].n === 0) break;
    await sleep(50);
  }
  let commits = 0;
  for (const orgId of orgIds) {
    const { rows } = await database.pool.query(
      `select b.balance, b.held,
              (select coalesce(sum(amount), 0)::bigint from ledger_entries where org_id = $1 and currency = 'credits') as sum_amount,
              (select coalesce(sum(held_delta), 0)::bigint from ledger_entries where org_id = $1 and currency = 'credits') as sum_held,
              (select count(*) from ledger_entries where org_id = $1 and (balance_after < 0 or held_after < 0 or balance_after < held_after)) as negative,
              (select coalesce(sum(amount), 0)::bigint from holds where org_id = $1 and posted_at is null) as unposted_amount,
              (select count(*) from holds where org_id = $1 and posted_at is null) as unposted,
              (select count(*) from holds where org_id = $1 and status = 'committed') as committed
         from balances b where b.org_id = $1 and b.currency = 'credits'`,
      [orgId],
    );
    const r = rows[0];
    if (!r) {
      v.push(`${orgId}: no balance row`);
      continue;
    }
    const n = (x: unknown) => Number(x);
    if (n(r.sum_amount) !== n(r.balance)) v.push(`${orgId}: sum(amount) ${r.sum_amount} ≠ balance ${r.balance}`);
    if (n(r.sum_held) !== n(r.held)) v.push(`${orgId}: sum(held_delta) ${r.sum_held} ≠ held ${r.held}`);
    if (n(r.unposted_amount) !== n(r.held)) v.push(`${orgId}: unposted holds ${r.unposted_amount} ≠ held ${r.held}`);
    // Every pair had returned: its settlement must be posted, and no hold left open.
    if (n(r.unposted) > 0) v.push(`${orgId}: ${r.unposted} holds open or not posted after the phase`);
    if (n(r.balance) - n(r.held) < 0) v.push(`${orgId}: available < 0`);
    if (n(r.negative) > 0) v.push(`${orgId}: ${r.negative} entries with a negative balance / held / available`);
    commits += n(r.committed);
  }
  if (commits !== expectedCommits) v.push(`committed holds ${commits} ≠ pairs completed ${expectedCommits}`);
  return v;
}

async function newWallet(database: Database, credits: number): Promise<string> {
  const id = newId('org');
  await database.pool.query('insert into orgs (id, name, slug) values ($1, $2, $3)', [id, 'Bench', id]);
  await database.db.transaction((tx) => credit(tx, { orgId: id, currency: 'credits', amount: credits, kind: 'grant' }));
  return id;
}

// ---- (b) service layer ---------------------------------------------------------------------------------------

interface PairRun {
  pairs: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

let keySeq = 0;

/** `workers` loops of reserve → settle(commit), each in its own transaction; worker i uses orgIds[i % n]. */
async function pairs(database: Database, orgIds: string[], workers: number, seconds: number): Promise<PairRun> {
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      const orgId = orgIds[w % orgIds.length];
      while (Date.now() < end) {
        const start = performance.now();
        try {
          // What a paid operation runs (src/modules/billing/paid.ts): reserve, the action's transaction (a no-op)
          // committing the hold, the posting to the balance.
          await runPaid(database.db, benchPaid, orgId, `bench-${keySeq++}`, async () => {});
          latencies.push(performance.now() - start);
        } catch (err) {
          errors++;
          if (errors <= 3) console.error(`pair failed: ${(err as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { pairs: latencies.length, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** Samples what the benchmark's backends wait on, every 50 ms, until stopped. */
function sampleWaits(url: string) {
  const client = new pg.Client({ connectionString: url });
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query(
        `select coalesce(wait_event_type || ':' || wait_event, case when state = 'active' then 'CPU (running)' else state end) as what, count(*)::int as n
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
          group by 1`,
      );
      samples++;
      for (const r of rows) counts.set(r.what, (counts.get(r.what) ?? 0) + r.n);
      await sleep(50);
    }
    await client.end();
  })();
  return async () => {
    running = false;
    await done;
    return [...counts.entries()].map(([what, n]) => ({ what, mean: n / Math.max(1, samples) })).sort((a, b) => b.mean - a.mean);
  };
}

/** Round trips during `fn`: pg client queries (BEGIN and COMMIT included), with their mean latency per statement. */
async function countRoundTrips<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; queries: number; byStatement: { sql: string; n: number; ms: number }[] }> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  let queries = 0;
  const stats = new Map<string, { n: number; ms: number }>();
  proto.query = function (this: unknown, ...a: unknown[]) {
    queries++;
    const first = a[0] as string | { text?: string };
    const sql = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 60);
    const t0 = performance.now();
    const out = original.apply(this, a);
    const record = () => {
      const s = stats.get(sql) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += performance.now() - t0;
      stats.set(sql, s);
    };
    if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(record, record);
    return out;
  };
  try {
    const result = await fn();
    return {
      result,
      queries,
      byStatement: [...stats.entries()].map(([sql, s]) => ({ sql, n: s.n, ms: s.ms / s.n })).sort((x, y) => y.n * y.ms - x.n * x.ms),
    };
  } finally {
    proto.query = original;
  }
}

/**
 * With `--pg shared_preload_libraries=pg_stat_statements`: resets the statistics, and returns a function that reads
 * the statements by total execution time since. Without the library: resolves to a function returning undefined.
 */
async function statementStats(database: Database): Promise<() => Promise<{ query: string; calls: number; ms: number }[] | undefined>> {
  try {
    await database.pool.query('create extension if not exists pg_stat_statements');
    await database.pool.query('select pg_stat_statements_reset()');
  } catch {
    return async () => undefined;
  }
  return async () =>
    (
      await database.pool.query(
        `select regexp_replace(left(query, 70), '\\s+', ' ', 'g') as query, calls::int, total_exec_time as ms
           from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
          order by total_exec_time desc limit 10`,
      )
    ).rows;
}

/** CPU used between the call and the returned function's call: this process (cores) and the machine (fraction). */
function cpuMeter(): () => { process: number; machine: number } {
  const machineTicks = () => {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = fields.map(Number);
    return { busy: n[0] + n[1] + n[2] + n[5] + n[6] + n[7], total: n.slice(0, 8).reduce((a, b) => a + b, 0) };
  };
  const t0 = performance.now();
  const p0 = process.cpuUsage();
  const m0 = machineTicks();
  return () => {
    const p = process.cpuUsage(p0);
    const m = machineTicks();
    return { process: (p.user + p.system) / 1000 / (performance.now() - t0), machine: (m.busy - m0.busy) / Math.max(1, m.total - m0.total) };
  };
}

// ---- (c) HTTP ------------------------------------------------------------------------------------------------

/** The real app plus the paid no-op `bench.paid` (bench/lib/paid-server.ts) on `url`, in a child process. */
function startPaidServer(url: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  return startListening('server', join(ROOT, 'bench', 'lib', 'paid-server.ts'), [url], { env, echo: true, timeoutMs: 60_000, graceMs: 15_000 });
}

function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// ---- the run -------------------------------------------------------------------------------------------------

export default async function (argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      clients: { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
      'skip-http': { type: 'boolean', default: false },
      'skip-diagnostics': { type: 'boolean', default: false },
      pg: { type: 'string', multiple: true, default: [] },
    },
  });
  const seconds = Number(values.duration);
  const warmup = Number(values.warmup);
  const clients = Number(values.clients);
  const rounds = Math.max(1, Number(values.rounds));
  cleanUpOnSignals();

  try {
    // Its cleanup runs last: if we die before cluster.stop(), it stops the PostgreSQL still running in the dir.
    const dataDir = tempDataDir('opsbase-bench-credits-');
    // --pg name=value (repeatable): server settings for experiments, e.g. --pg synchronous_commit=off.
    const settings = Object.fromEntries((values.pg ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const cluster = await startEmbedded({ dataDir, log: createLogger('warn'), settings });
    onCleanup(() => cluster.stop());

    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    const info = (
      await admin.query(
        `select current_setting('server_version') as version, current_setting('fsync') as fsync,
                current_setting('synchronous_commit') as sync, current_setting('shared_buffers') as sb`,
      )
    ).rows[0];
    await admin.query('create database opsbase_bench');
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, '/opsbase_bench');
    const database = connect(url, { max: clients + 4 });
    onCleanup(() => database.close());
    await runMigrations(database);

    console.log(
      `credits benchmark: embedded PostgreSQL ${info.version} (fsync=${info.fsync}, synchronous_commit=${info.sync}, shared_buffers=${info.sb}), ` +
        `${availableParallelism()} CPUs, ${clients} clients, ${seconds} s per phase after a ${warmup} s warm-up\n`,
    );

    // (a) and (b), interleaved for `rounds` rounds: whatever else the machine does during the run weighs on both
    // alike, and the ratio is of the medians.
    const baseline = await prepareBaseline(cluster.url, clients);
    const orgId = await newWallet(database, 1_000_000_000);
    const aRuns: number[] = [];
    const bRuns: PairRun[] = [];
    const bViolations: string[] = [];
    let waits: { what: string; mean: number }[] = [];
    let topStatements: Awaited<ReturnType<Awaited<ReturnType<typeof statementStats>>>>;
    for (let round = 1; round <= rounds; round++) {
      const tps = await baseline.run(seconds, warmup);
      aRuns.push(tps);
      console.log(`(a) round ${round}: pgbench simple-update (-N), ${clients} clients:        ${fmt(tps)} TPS`);

      if (warmup > 0) await pairs(database, [orgId], clients, warmup);
      const stopSampling = sampleWaits(url);
      const before = Number(
        (await database.pool.query(`select count(*) from holds where org_id = $1 and status = 'committed'`, [orgId])).rows[0].count,
      );
      const statements = await statementStats(database);
      const cpu = cpuMeter();
      const b = await pairs(database, [orgId], clients, seconds);
      const bCpu = cpu();
      // The diagnostics below describe the last round.
      topStatements = await statements();
      waits = await stopSampling();
      bRuns.push(b);
      const found = await violations(database, [orgId], before + b.pairs);
      bViolations.push(...found);
      console.log(
        `(b) round ${round}: hold+commit pairs, service layer, 1 org, ${clients} workers: ${fmt(b.perSecond)} pairs/s   ` +
          `(${b.pairs} pairs, p50 ${fmt(b.p50, 2)} ms, p99 ${fmt(b.p99, 2)} ms, errors ${b.errors}, invariant violations ${found.length})`,
      );
      if (found.length) console.log(`      ${found.join('\n      ')}`);
      console.log(
        `    CPU: this process ${fmt(bCpu.process * 100, 0)}% of a core, whole machine ${fmt(bCpu.machine * 100, 0)}% of ${availableParallelism()} cores; ` +
          `${fmt((bCpu.process * 1e6) / b.perSecond, 0)} µs of this process per pair`,
      );
    }
    const a = { tps: median(aRuns) };
    const b = { perSecond: median(bRuns.map((r) => r.perSecond)), pairs: bRuns[bRuns.length - 1].pairs };
    console.log(
      `(a) pgbench simple-update (-N), ${clients} clients, median of ${rounds}: ${fmt(a.tps)} TPS   [${aRuns.map((x) => fmt(x, 0)).join(', ')}; ${baseline.label}, ${seconds} s each]`,
    );
    console.log(
      `(b) hold+commit pairs, service layer, median of ${rounds}:            ${fmt(b.perSecond)} pairs/s   [${bRuns.map((r) => fmt(r.perSecond, 0)).join(', ')}]`,
    );
    console.log(`    round ratios b/a: ${bRuns.map((r, i) => (r.perSecond / aRuns[i]).toFixed(2)).join(', ')}\n`);

    // (c) HTTP, one org
    let httpViolations: string[] = [];
    if (!values['skip-http']) {
      const server = await startPaidServer(url);
      const t = await createTenant(server.base);
      await database.db.transaction((tx) => credit(tx, { orgId: t.orgId, currency: 'credits', amount: 1_000_000_000, kind: 'grant' }));
      const opts: autocannon.Options = {
        url: `${server.base}/api/v1/bench/paid`,
        method: 'POST',
        connections: clients,
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: '{}',
      };
      if (warmup > 0) await cannon({ ...opts, duration: warmup });
      const r = await cannon({ ...opts, duration: seconds });
      const ok = r['2xx'];
      // Requests cut off by the end of the run may still be settling: wait for their holds before counting.
      for (let i = 0; i < 100; i++) {
        const open = await database.pool.query(`select count(*)::int as n from holds where org_id = $1 and posted_at is null`, [t.orgId]);
        if (open.rows[0].n === 0) break;
        await sleep(50);
      }
      // Every 2xx is a committed pair; the warm-up's count too.
      const committed = Number(
        (await database.pool.query(`select count(*) from holds where org_id = $1 and status = 'committed'`, [t.orgId])).rows[0].count,
      );
      httpViolations = await violations(database, [t.orgId], committed);
      console.log(
        `(c) hold+commit pairs, HTTP POST /api/v1/bench/paid, ${clients} conns: ${fmt(ok / seconds)} pairs/s   ` +
          `(${ok} × 2xx, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms)`,
      );
      console.log(`    invariant violations: ${httpViolations.length}${httpViolations.length ? `\n      ${httpViolations.join('\n      ')}` : ''}`);
      if (r.non2xx || r.errors) httpViolations.push(`${r.non2xx} non-2xx responses, ${r.errors} errors`);
    }

    if (!values['skip-diagnostics']) {
      console.log('\ndiagnostics:');
      const oneClient = await baseline.oneClient?.();
      if (oneClient) {
        console.log(
          `  pgbench -N, 1 client: ${fmt(oneClient)} TPS = ${fmt(1000 / oneClient, 2)} ms per transaction (a durable commit included): ` +
            'a row lock held through COMMIT is held at least this long',
        );
      }
      if (topStatements) {
        console.log(`  during the last round of (b), server time per pair by statement (pg_stat_statements):`);
        for (const st of topStatements) {
          console.log(`    ${fmt((st.ms * 1000) / b.pairs, 0).padStart(5)} µs  ${fmt(st.calls / b.pairs, 2)} calls  ${st.query}`);
        }
      }
      console.log(`  during the last round of (b), mean backends (of ${clients}) by wait event (pg_stat_activity, sampled every 50 ms):`);
      for (const w of waits.slice(0, 8)) console.log(`    ${w.what.padEnd(34)} ${fmt(w.mean, 2)}`);
      const soloOrg = await newWallet(database, 1_000_000_000);
      const solo = await countRoundTrips(() => pairs(database, [soloOrg], 1, Math.min(seconds, 3)));
      const perPair = solo.queries / Math.max(1, solo.result.pairs);
      console.log(
        `  1 worker, 1 org:   ${fmt(solo.result.perSecond)} pairs/s, ${fmt(1000 / solo.result.perSecond, 3)} ms per pair, ` +
          `${fmt(perPair)} round trips per pair (BEGIN/COMMIT included); per pair:`,
      );
      for (const q of solo.byStatement) {
        console.log(`    ${fmt(q.n / Math.max(1, solo.result.pairs))} × ${fmt(q.ms, 3).padStart(7)} ms  ${q.sql}`);
      }
      const orgs = await Promise.all(Array.from({ length: clients }, () => newWallet(database, 1_000_000_000)));
      const spreadStatements = await statementStats(database);
      const spreadCpu = cpuMeter();
      const spread = await pairs(database, orgs, clients, Math.min(seconds, 5));
      const spreadUse = spreadCpu();
      const spreadTop = await spreadStatements();
      const spreadViolations = await violations(database, orgs, spread.pairs);
      console.log(
        `  ${clients} workers, ${clients} orgs (no shared balance row): ${fmt(spread.perSecond)} pairs/s ` +
          `(p50 ${fmt(spread.p50, 2)} ms, p99 ${fmt(spread.p99, 2)} ms), invariant violations ${spreadViolations.length}; ` +
          `CPU: this process ${fmt(spreadUse.process * 100, 0)}% of a core, machine ${fmt(spreadUse.machine * 100, 0)}%`,
      );
      for (const st of spreadTop?.slice(0, 6) ?? []) {
        console.log(`    ${fmt((st.ms * 1000) / spread.pairs, 0).padStart(5)} µs  ${fmt(st.calls / spread.pairs, 2)} calls  ${st.query}`);
      }
      bViolations.push(...spreadViolations);
    }

    const total = bViolations.length + httpViolations.length;
    const ratio = b.perSecond / a.tps;
    console.log(`\ninvariant violations, all phases: ${total}`);
    console.log(`target: b/a >= ${TARGET} through the service layer — ${ratio >= TARGET ? 'met' : 'NOT met'}`);
    console.log(`ratio credits: ${ratio.toFixed(2)}`);
    if (total > 0) throw new Error(`${total} invariant violations`);
  } finally {
    await cleanUp();
  }
}
