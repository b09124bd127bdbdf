// The ledger (issue 3, scope 1 and 2; DESIGN §6) at the service layer: a fast-check model test of random
// grant / hold / commit / release / consume / refund / expire sequences run concurrently from many connections,
// 1,000 concurrent reservations against 100 credits, idempotent replays, a process killed between reserve and
// commit (its hold expires and the credit comes back), the hold sweeper's schedule, and bad input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { AppError } from '../src/core/errors.ts';
import { connect, type Database } from '../src/db/client.ts';
import type { Currency } from '../src/db/schema/billing.ts';
import { enqueueJob } from '../src/jobs/enqueue.ts';
import { startWorker } from '../src/jobs/worker.ts';
import { expireHoldsJob } from '../src/modules/billing/jobs.ts';
import { expireHolds, type HoldRow, postSettled, reserve, settle } from '../src/modules/billing/holds.ts';
import { balanceOf, consume, credit } from '../src/modules/billing/ledger.ts';
import { sleep } from './helpers/db.ts';
import { startTestApp, type TestApp } from './helpers/harness.ts';
import { invariantViolations, ledgerState, makeOrg } from './helpers/ledger.ts';

const HANG = fileURLToPath(new URL('./helpers/reserve-and-hang.ts', import.meta.url));

let app: TestApp;
/** Eight connections: every ledger call below runs in its own transaction over this pool, concurrently. */
let database: Database;

before(async () => {
  app = await startTestApp();
  database = connect(app.databaseUrl, { max: 8 });
  // Instrumentation of this test's own database, not of the ledger: a sequence number stamped on each entry as
  // it is inserted. Entries of one org are inserted under its balance-row lock, so this is the order in which
  // PostgreSQL serialised them — the order the sequential model replays.
  await database.pool.query('alter table ledger_entries add column test_seq bigserial');
});
after(async () => {
  await database?.close();
  await app?.close();
});

/** Runs `fn` and returns its AppError instead of throwing it; anything else (deadlock, unique violation) throws. */
async function outcome<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: AppError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, error: err };
    throw err;
  }
}

const tx = <T>(fn: (t: Parameters<Parameters<Database['db']['transaction']>[0]>[0]) => Promise<T>) => database.db.transaction(fn);

async function assertInvariant(orgId: string, currency: Currency = 'credits') {
  const state = await ledgerState(database.pool, orgId, currency);
  assert.deepEqual(invariantViolations(state), [], `ledger invariant of ${orgId} (${currency}): ${JSON.stringify(state)}`);
  return state;
}

// ---- the model test --------------------------------------------------------------------------------------------

type Cmd =
  | { t: 'grant'; kind: 'grant' | 'refund'; amount: number; key: number | null }
  | { t: 'consume'; amount: number; key: number | null }
  | { t: 'hold'; amount: number; key: number; expire: boolean }
  | { t: 'settle'; ref: number; outcome: 'commit' | 'release'; inTx: boolean };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('grant' as const),
      kind: fc.constantFrom('grant' as const, 'refund' as const),
      amount: fc.integer({ min: 1, max: 20 }),
      key: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('consume' as const),
      amount: fc.integer({ min: 1, max: 15 }),
      key: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('hold' as const),
      amount: fc.integer({ min: 1, max: 10 }),
      key: fc.integer({ min: 0, max: 9 }),
      expire: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('settle' as const),
      ref: fc.nat(),
      outcome: fc.constantFrom('commit' as const, 'release' as const),
      // In a transaction then posted (as runPaid commits), or on its own (settles and posts).
      inTx: fc.boolean(),
    }),
  },
);

interface Entry {
  id: string;
  kind: string;
  amount: number;
  held_delta: number;
  balance_after: number;
  held_after: number;
  hold_id: string | null;
  idempotency_key: string | null;
}

type Result =
  | { cmd: Cmd; kind: 'credit' | 'consume'; ok: true; entryId: string; replayed: boolean }
  | { cmd: Cmd; kind: 'hold'; ok: true; hold: HoldRow; replayed: boolean }
  | { cmd: Cmd; kind: 'settle'; ok: true; hold: HoldRow }
  | { cmd: Cmd; kind: 'settle'; ok: false; skipped: true }
  | { cmd: Cmd; kind: 'consume' | 'hold'; ok: false; error: AppError };

/** Runs the scenario: every command at once (the pool admits 8 at a time); a settle waits for the hold it names. */
async function runScenario(orgId: string, currency: Currency, cmds: Cmd[]): Promise<Result[]> {
  const holdPromises: Promise<Result>[] = [];
  const promises: Promise<Result>[] = cmds.map((cmd): Promise<Result> => {
    switch (cmd.t) {
      case 'grant':
        return tx((t) =>
          credit(t, { orgId, currency, amount: cmd.amount, kind: cmd.kind, idempotencyKey: cmd.key === null ? null : `g${cmd.key}` }),
        ).then((r) => ({ cmd, kind: 'credit' as const, ok: true as const, entryId: r.entry.id, replayed: r.replayed }));
      case 'consume':
        return outcome(() =>
          tx((t) => consume(t, { orgId, currency, amount: cmd.amount, idempotencyKey: cmd.key === null ? null : `c${cmd.key}` })),
        ).then(
          (r): Result =>
            r.ok
              ? { cmd, kind: 'consume', ok: true, entryId: r.value.entry.id, replayed: r.value.replayed }
              : { cmd, kind: 'consume', ok: false, error: r.error },
        );
      case 'hold': {
        const p = outcome(async () => {
          const input = {
            orgId,
            currency,
            amount: cmd.amount,
            operation: 'test.model',
            idempotencyKey: `h${cmd.key}`,
            ttlSeconds: cmd.expire ? -1 : 900,
          };
          // Concurrent reservations of the wallet are batched, as runPaid's are.
          const r = await reserve(database.db, input);
          // A hold past its TTL: the sweeper (what the worker's billing.expire_holds job runs) gives it back.
          if (cmd.expire) await expireHolds(database.db);
          return r;
        }).then(
          (r): Result =>
            r.ok ? { cmd, kind: 'hold', ok: true, hold: r.value.hold, replayed: r.value.replayed } : { cmd, kind: 'hold', ok: false, error: r.error },
        );
        holdPromises.push(p);
        return p;
      }
      case 'settle': {
        const target = holdPromises.length ? holdPromises[cmd.ref % holdPromises.length] : undefined;
        return (async (): Promise<Result> => {
          const h = await target;
          if (h?.kind !== 'hold' || !h.ok) return { cmd, kind: 'settle', ok: false, skipped: true };
          if (!cmd.inTx) return { cmd, kind: 'settle', ok: true, hold: await settle(database.db, h.hold.id, cmd.outcome) };
          const hold = await tx((t) => settle(t, h.hold.id, cmd.outcome));
          await postSettled(database.db, orgId, currency);
          return { cmd, kind: 'settle', ok: true, hold };
        })();
      }
      default:
        throw new Error(`unknown command ${JSON.stringify(cmd)}`);
    }
  });
  return Promise.all(promises);
}

/** Replays the ledger in its serialisation order through a sequential model and checks every outcome against it. */
async function checkScenario(orgId: string, currency: Currency, results: Result[]) {
  const entries = (
    await database.pool.query(
      `select id, kind, amount, held_delta, balance_after, held_after, hold_id, idempotency_key
         from ledger_entries where org_id = $1 and currency = $2 order by test_seq`,
      [orgId, currency],
    )
  ).rows as Entry[];
  const holdRows = new Map(
    (await database.pool.query('select id, amount, status, expires_at < created_at as past_ttl from holds where org_id = $1', [orgId])).rows.map(
      (h) => [h.id as string, h as { id: string; amount: number; status: string; past_ttl: boolean }],
    ),
  );

  // 1. The sequential model, fed the entries in the order they were applied.
  const model = { balance: 0, held: 0, holds: new Map<string, { amount: number; status: string }>() };
  const availableSeen = new Set<number>([0]);
  let granted = 0;
  let spent = 0;
  for (const e of entries) {
    const where = `entry ${e.id} (${e.kind})`;
    assert.equal(e.balance_after - e.amount, model.balance, `${where} follows balance ${model.balance}`);
    assert.equal(e.held_after - e.held_delta, model.held, `${where} follows held ${model.held}`);
    const available = model.balance - model.held;
    switch (e.kind) {
      case 'grant':
      case 'refund':
        assert.ok(e.amount > 0 && e.held_delta === 0, where);
        granted += e.amount;
        break;
      case 'consume':
        assert.ok(e.amount < 0 && e.held_delta === 0, where);
        assert.ok(available >= -e.amount, `${where}: consumed ${-e.amount} with ${available} available`);
        spent -= e.amount;
        break;
      case 'hold': {
        assert.ok(e.hold_id && !model.holds.has(e.hold_id), `${where}: one hold entry per hold`);
        assert.ok(e.amount === 0 && e.held_delta > 0, where);
        assert.ok(available >= e.held_delta, `${where}: held ${e.held_delta} with ${available} available`);
        model.holds.set(e.hold_id, { amount: e.held_delta, status: 'open' });
        break;
      }
      case 'commit':
      case 'release':
      case 'expire': {
        const h = model.holds.get(e.hold_id ?? '');
        assert.ok(h, `${where}: settles a hold taken before it`);
        assert.equal(h.status, 'open', `${where}: settles an open hold (never twice)`);
        assert.equal(e.held_delta, -h.amount, where);
        assert.equal(e.amount, e.kind === 'commit' ? -h.amount : 0, where);
        h.status = { commit: 'committed', release: 'released', expire: 'expired' }[e.kind];
        if (e.kind === 'commit') spent += h.amount;
        break;
      }
      default:
        assert.fail(`${where}: unexpected kind`);
    }
    model.balance += e.amount;
    model.held += e.held_delta;
    assert.ok(model.balance >= 0 && model.held >= 0 && model.balance - model.held >= 0, `${where}: nothing negative`);
    availableSeen.add(model.balance - model.held);
  }
  assert.ok(spent <= granted, `spent ${spent} ≤ granted ${granted}`);

  // 2. The database ends where the model ends.
  const state = await assertInvariant(orgId, currency);
  assert.equal(state.balance, model.balance);
  assert.equal(state.held, model.held);
  assert.equal(holdRows.size, model.holds.size, 'every hold row has its hold entry');
  for (const [id, h] of model.holds) {
    assert.equal(holdRows.get(id)?.status, h.status, `hold ${id}`);
    assert.equal(Number(holdRows.get(id)?.amount), h.amount, `hold ${id}`);
    if (h.status === 'expired') assert.ok(holdRows.get(id)?.past_ttl, `hold ${id} expired only because its TTL had passed`);
  }

  // 3. Every outcome agrees with the ledger.
  const byKind = (k: string) => entries.filter((e) => e.kind === k);
  const entryById = new Map(entries.map((e) => [e.id, e]));
  const firstByKey = new Map<string, string>();
  for (const r of results) {
    if (!r.ok) {
      if (r.kind === 'settle') {
        assert.ok(r.skipped);
        continue;
      }
      assert.equal(r.error.code, 'out_of_credits', `${r.cmd.t} failed with ${r.error.code}: ${r.error.message}`);
      assert.equal(r.error.status, 402);
      const d = r.error.details as { available: number; needed: number };
      assert.equal(d.needed, (r.cmd as { amount: number }).amount);
      assert.ok(d.available < d.needed, `402 with ${d.available} available for ${d.needed}`);
      assert.ok(availableSeen.has(d.available), `the 402 saw available = ${d.available}, a state the ledger went through`);
      continue;
    }
    if (r.kind === 'credit' || r.kind === 'consume') {
      const e = entryById.get(r.entryId);
      assert.ok(e, `${r.cmd.t} returned an entry of this ledger`);
      const key = e.idempotency_key;
      if (key) {
        const seen = firstByKey.get(key);
        if (seen) assert.equal(r.entryId, seen, `key ${key}: one entry`);
        else firstByKey.set(key, r.entryId);
      } else assert.equal(r.replayed, false);
    } else if (r.kind === 'hold') {
      assert.ok(model.holds.has(r.hold.id), 'the hold returned has its entry');
      const key = `hold:${r.hold.idempotencyKey}`;
      const seen = firstByKey.get(key);
      if (seen) assert.equal(r.hold.id, seen, `hold key ${r.hold.idempotencyKey}: one hold`);
      else firstByKey.set(key, r.hold.id);
      // A fresh hold past its TTL has been swept by the time its command returned (or settled by a racing command).
      if ((r.cmd as { expire: boolean }).expire && !r.replayed) assert.notEqual(model.holds.get(r.hold.id)?.status, 'open');
    } else if (r.kind === 'settle') {
      // settle returns the hold as it ends up: the winner's outcome, whoever won.
      assert.notEqual(r.hold.status, 'open');
      assert.equal(r.hold.status, model.holds.get(r.hold.id)?.status, `settle of ${r.hold.id} reports its final status`);
    }
  }
  // Exactly one non-replayed result per applied entry, and vice versa.
  const fresh = (k: Result['kind']) => results.filter((r) => r.kind === k && r.ok && 'replayed' in r && !r.replayed);
  assert.equal(fresh('credit').length, byKind('grant').length + byKind('refund').length, 'one credit entry per fresh credit');
  assert.equal(fresh('consume').length, byKind('consume').length, 'one consume entry per fresh consume');
  assert.equal(fresh('hold').length, byKind('hold').length, 'one hold entry per fresh reservation');
  for (const r of results) if (r.ok && 'replayed' in r && r.replayed) assert.ok(r.cmd.t === 'hold' || (r.cmd as { key: unknown }).key !== null);
  const committedHolds = [...model.holds.values()].filter((h) => h.status === 'committed').length;
  assert.ok(committedHolds <= results.filter((r) => r.cmd.t === 'settle' && r.cmd.outcome === 'commit').length);
}

describe('ledger', () => {
  test('model: random concurrent grant / hold / commit / release / consume / refund / expire sequences', async () => {
    let scenarios = 0;
    let entriesSeen = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Currency>('credits', 'tokens'),
        fc.array(cmdArb, { minLength: 10, maxLength: 40, size: 'max' }),
        async (currency, cmds) => {
          const orgId = await makeOrg(database.pool);
          const results = await runScenario(orgId, currency, cmds);
          await checkScenario(orgId, currency, results);
          scenarios++;
          entriesSeen += (await ledgerState(database.pool, orgId, currency)).entries;
        },
      ),
      { numRuns: 30 },
    );
    assert.equal(scenarios, 30);
    // The scenarios did move money (a generator that only produced 402s would prove little).
    assert.ok(entriesSeen > 100, `${entriesSeen} ledger entries across the scenarios`);
  });

  for (const instances of [1, 8]) {
    test(`1,000 concurrent reservations of 1 credit against 100 from ${instances} instance(s): exactly 100 succeed, 900 get 402`, async () => {
      // Each connection pool stands for an instance: its reservations are batched together, and the batches of
      // different instances contend for the wallet. A stress of correctness, not latency: allow a long wait.
      const pools = Array.from({ length: instances }, () => connect(app.databaseUrl, { max: 4, connectionTimeoutMillis: 120_000 }));
      try {
        const orgId = await makeOrg(database.pool);
        await tx((t) => credit(t, { orgId, currency: 'credits', amount: 100, kind: 'grant' }));
        const settled = await Promise.allSettled(
          Array.from({ length: 1000 }, (_, i) =>
            reserve(pools[i % instances].db, { orgId, amount: 1, operation: 'test.rush', idempotencyKey: `rush-${i}`, ttlSeconds: 900 }),
          ),
        );
        const ok = settled.filter((s) => s.status === 'fulfilled');
        const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        assert.equal(ok.length, 100);
        assert.equal(failed.length, 900);
        for (const f of failed) {
          assert.ok(f.reason instanceof AppError, String(f.reason));
          assert.equal(f.reason.code, 'out_of_credits');
          assert.equal(f.reason.status, 402);
        }
        assert.equal(new Set(ok.map((s) => (s as PromiseFulfilledResult<{ hold: HoldRow }>).value.hold.id)).size, 100);
        const state = await assertInvariant(orgId);
        assert.deepEqual([state.balance, state.held, state.available, state.entries], [100, 100, 0, 101]);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });
  }

  test('replays: the same idempotency key for credit, consume or reserve has one effect', async () => {
    const orgId = await makeOrg(database.pool);
    const first = await tx((t) => credit(t, { orgId, currency: 'credits', amount: 50, kind: 'purchase', idempotencyKey: 'pay-1' }));
    assert.equal(first.replayed, false);
    // Retried one after the other, and ten at once.
    const again = await tx((t) => credit(t, { orgId, currency: 'credits', amount: 50, kind: 'purchase', idempotencyKey: 'pay-1' }));
    assert.deepEqual([again.replayed, again.entry.id], [true, first.entry.id]);
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => tx((t) => credit(t, { orgId, currency: 'credits', amount: 50, kind: 'purchase', idempotencyKey: 'pay-2' }))),
    );
    assert.equal(burst.filter((r) => !r.replayed).length, 1);
    assert.equal(new Set(burst.map((r) => r.entry.id)).size, 1);
    assert.equal((await balanceOf(database.db, orgId, 'credits')).balance, 100);

    const spends = await Promise.all(
      Array.from({ length: 10 }, () => tx((t) => consume(t, { orgId, currency: 'credits', amount: 7, idempotencyKey: 'spend-1' }))),
    );
    assert.equal(spends.filter((r) => !r.replayed).length, 1);
    assert.equal(new Set(spends.map((r) => r.entry.id)).size, 1);
    assert.equal((await balanceOf(database.db, orgId, 'credits')).balance, 93);

    const holdsTaken = await Promise.all(
      Array.from({ length: 10 }, () =>
        reserve(database.db, { orgId, amount: 5, operation: 'test.replay', idempotencyKey: 'job-1', ttlSeconds: 900 }),
      ),
    );
    assert.equal(holdsTaken.filter((r) => !r.replayed).length, 1);
    const holdId = holdsTaken[0].hold.id;
    assert.ok(holdsTaken.every((r) => r.hold.id === holdId));
    assert.deepEqual(await balanceOf(database.db, orgId, 'credits'), { balance: 93, held: 5, available: 88 });
    // Committed, then retried: the retry finds the settled hold and moves nothing; a second commit is a no-op.
    await settle(database.db, holdId, 'commit');
    const late = await reserve(database.db, { orgId, amount: 5, operation: 'test.replay', idempotencyKey: 'job-1', ttlSeconds: 900 });
    assert.deepEqual([late.replayed, late.hold.id, late.hold.status], [true, holdId, 'committed']);
    const twice = await settle(database.db, holdId, 'commit');
    assert.equal(twice.status, 'committed');
    const released = await settle(database.db, holdId, 'release');
    assert.equal(released.status, 'committed', 'a settled hold cannot be released afterwards');
    assert.deepEqual(await balanceOf(database.db, orgId, 'credits'), { balance: 88, held: 0, available: 88 });
    const kinds = (
      await database.pool.query('select kind, count(*)::int as n from ledger_entries where org_id = $1 group by kind order by kind', [orgId])
    ).rows;
    assert.deepEqual(kinds, [
      { kind: 'commit', n: 1 },
      { kind: 'consume', n: 1 },
      { kind: 'hold', n: 1 },
      { kind: 'purchase', n: 2 },
    ]);
    await assertInvariant(orgId);
  });

  test('a process killed between reserve and commit: its hold expires and the credit comes back', async () => {
    const orgId = await makeOrg(database.pool);
    await tx((t) => credit(t, { orgId, currency: 'credits', amount: 10, kind: 'grant' }));
    const holdId = await crashWithHold(orgId);
    assert.deepEqual(await balanceOf(database.db, orgId, 'credits'), { balance: 10, held: 3, available: 7 }, 'the dead process still holds 3');
    const [open] = (await database.pool.query('select status from holds where id = $1', [holdId])).rows;
    assert.equal(open.status, 'open');

    await waitPastExpiry(holdId);
    assert.ok((await expireHolds(database.db)) >= 1);
    const [hold] = (await database.pool.query('select status, settled_at from holds where id = $1', [holdId])).rows;
    assert.equal(hold.status, 'expired');
    assert.ok(hold.settled_at);
    const expired = (await database.pool.query(`select amount, held_delta from ledger_entries where hold_id = $1 and kind = 'expire'`, [holdId]))
      .rows;
    assert.deepEqual(expired, [{ amount: 0, held_delta: -3 }]);
    assert.deepEqual(await balanceOf(database.db, orgId, 'credits'), { balance: 10, held: 0, available: 10 });
    // Sweeping again finds nothing of this org's to do.
    await expireHolds(database.db);
    assert.equal((await ledgerState(database.pool, orgId)).entries, 3);
    await assertInvariant(orgId);
  });

  test('the real worker schedules billing.expire_holds and its job releases a dead process’s hold', async () => {
    const worker = await startWorker(app.app.services);
    try {
      const schedules = (
        await database.pool.query(`select queue, cron, singleton_key from queue_schedules where org_id = 'system' and queue = $1`, [
          expireHoldsJob.type,
        ])
      ).rows;
      assert.deepEqual(schedules, [{ queue: 'billing.expire_holds', cron: '* * * * *', singleton_key: 'billing.expire_holds' }]);

      const orgId = await makeOrg(database.pool);
      await tx((t) => credit(t, { orgId, currency: 'credits', amount: 5, kind: 'grant' }));
      const holdId = await crashWithHold(orgId);
      assert.equal((await balanceOf(database.db, orgId, 'credits')).available, 2);
      await waitPastExpiry(holdId);
      // Don't wait up to a minute for cron: enqueue the sweep the schedule would (while one is already pending, the
      // singleton key returns that one, which then does the work).
      await enqueueJob(database.db, expireHoldsJob, {}, { singletonKey: expireHoldsJob.type });
      const deadline = Date.now() + 30_000;
      let status = 'open';
      while (status === 'open' && Date.now() < deadline) {
        await sleep(200);
        status = (await database.pool.query('select status from holds where id = $1', [holdId])).rows[0].status;
      }
      assert.equal(status, 'expired', 'the worker’s sweep expired the hold');
      assert.deepEqual(await balanceOf(database.db, orgId, 'credits'), { balance: 5, held: 0, available: 5 });
      await assertInvariant(orgId);
    } finally {
      await worker.stop();
    }
  });

  test('bad amounts are unprocessable and change nothing', async () => {
    const orgId = await makeOrg(database.pool);
    for (const amount of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const call of [
        (): Promise<unknown> => tx((t) => credit(t, { orgId, currency: 'credits', amount, kind: 'grant' })),
        (): Promise<unknown> => tx((t) => consume(t, { orgId, currency: 'tokens', amount })),
        (): Promise<unknown> => reserve(database.db, { orgId, amount, operation: 'test.bad', idempotencyKey: `bad-${amount}`, ttlSeconds: 60 }),
      ]) {
        const r = await outcome(call);
        assert.equal(r.ok, false, `amount ${amount} was accepted`);
        assert.equal((r as { error: AppError }).error.code, 'unprocessable');
      }
    }
    const rows = (
      await database.pool.query(
        `select (select count(*)::int from ledger_entries where org_id = $1) as entries,
                (select count(*)::int from holds where org_id = $1) as holds,
                (select count(*)::int from balances where org_id = $1 and (balance <> 0 or held <> 0)) as moved`,
        [orgId],
      )
    ).rows;
    assert.deepEqual(rows, [{ entries: 0, holds: 0, moved: 0 }]);
  });
});

describe('ledger over HTTP: bad input changes nothing', () => {
  test('tokens.consume and billing.grant reject bad amounts, unknown currencies and orgs', async () => {
    const t = await app.tenant('Ledger');
    const grant = (body: Record<string, unknown>) => app.request('POST', '/api/v1/billing/grants', { key: app.admin.sessionToken, body });
    const ok = await grant({ org: t.orgId, tokens: 10 });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.balance, 10);
    const tokensBefore = (await app.request('GET', '/api/v1/tokens/balance', { key: t.key })).body;
    const walletBefore = (await app.request('GET', '/api/v1/wallet', { key: t.key })).body;
    const countBefore =
      (await ledgerState(database.pool, t.orgId, 'tokens')).entries + (await ledgerState(database.pool, t.orgId, 'credits')).entries;

    for (const amount of [0, -1, 1.5, 'x', null]) {
      const res = await app.request('POST', '/api/v1/tokens/consume', { key: t.key, body: { amount, action: 'bad', reference_id: `bad-${amount}` } });
      assert.equal(res.status, 400, `amount ${JSON.stringify(amount)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, 'invalid_request');
      assert.ok(JSON.stringify(res.body.details).includes('amount'), JSON.stringify(res.body));
    }
    const short = await app.request('POST', '/api/v1/tokens/consume', { key: t.key, body: { amount: 11, action: 'big', reference_id: 'big-1' } });
    assert.equal(short.status, 402);
    assert.equal(short.body.error, 'out_of_credits');

    for (const body of [
      { org: t.orgId, dollars: 5 },
      { org: t.orgId },
      { org: t.orgId, credits: 5, tokens: 5 },
      { org: t.orgId, credits: 0 },
      { org: t.orgId, credits: -5 },
      { org: t.orgId, tokens: 2.5 },
      { org: t.orgId, credits: '5' },
    ]) {
      const res = await grant(body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error, 'invalid_request');
    }
    const nobody = await grant({ org: 'org_doesnotexist000000000000', credits: 5 });
    assert.equal(nobody.status, 404);
    // Only instance admins grant: an org owner's session or key cannot.
    const byOwner = await app.request('POST', '/api/v1/billing/grants', { key: t.sessionToken, body: { org: t.orgId, credits: 5 } });
    assert.equal(byOwner.status, 403);
    const byKey = await app.request('POST', '/api/v1/billing/grants', { key: t.key, body: { org: t.orgId, credits: 5 } });
    assert.ok(byKey.status === 401 || byKey.status === 403, String(byKey.status));

    assert.deepEqual((await app.request('GET', '/api/v1/tokens/balance', { key: t.key })).body, tokensBefore);
    assert.deepEqual((await app.request('GET', '/api/v1/wallet', { key: t.key })).body, walletBefore);
    const countAfter = (await ledgerState(database.pool, t.orgId, 'tokens')).entries + (await ledgerState(database.pool, t.orgId, 'credits')).entries;
    assert.equal(countAfter, countBefore, 'no ledger entry was written');
    await assertInvariant(t.orgId, 'tokens');
  });

  test('tokens.consume: replaying a reference_id spends once', async () => {
    const t = await app.tenant('Replay');
    const g = await app.request('POST', '/api/v1/billing/grants', {
      key: app.admin.sessionToken,
      body: { org: t.orgId, tokens: 20, idempotency_key: 'tk-1' },
    });
    assert.equal(g.status, 201);
    const g2 = await app.request('POST', '/api/v1/billing/grants', {
      key: app.admin.sessionToken,
      body: { org: t.orgId, tokens: 20, idempotency_key: 'tk-1' },
    });
    assert.deepEqual([g2.body.replayed, g2.body.id, g2.body.balance], [true, g.body.id, 20]);
    const spend = () => app.request('POST', '/api/v1/tokens/consume', { key: t.key, body: { amount: 4, action: 'chat', reference_id: 'msg-1' } });
    const [a, b, c] = await Promise.all([spend(), spend(), spend()]);
    for (const r of [a, b, c]) assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal([a, b, c].filter((r) => !r.body.replayed).length, 1);
    assert.equal(new Set([a, b, c].map((r) => r.body.id)).size, 1);
    const bal = await app.request('GET', '/api/v1/tokens/balance', { key: t.key });
    assert.equal(bal.body.balance, 16);
    await assertInvariant(t.orgId, 'tokens');
  });
});

// ---- helpers for the crash tests ---------------------------------------------------------------------------------

/** Spawns a process that reserves 3 credits with a 1 s TTL and hangs; kills it with SIGKILL once the hold exists. */
async function crashWithHold(orgId: string): Promise<string> {
  const child = spawn(process.execPath, [HANG, app.databaseUrl, orgId, '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const holdId = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`reserve-and-hang exited (${code}) before printing a hold: ${err}`)));
  });
  assert.match(holdId, /^hld_/);
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
  return holdId;
}

async function waitPastExpiry(holdId: string) {
  for (;;) {
    const [row] = (await database.pool.query('select expires_at < now() as due from holds where id = $1', [holdId])).rows;
    if (row.due) return;
    await sleep(100);
  }
}
