ALTER TABLE "holds" ADD COLUMN "posted_at" timestamp with time zone;--> statement-breakpoint
-- Holds settled before this migration moved the balance when they settled.
UPDATE "holds" SET "posted_at" = "settled_at" WHERE "status" <> 'open';--> statement-breakpoint
CREATE INDEX "holds_unposted_idx" ON "holds" USING btree ("org_id","currency") WHERE "holds"."status" <> 'open' and "holds"."posted_at" is null;--> statement-breakpoint
-- The hot path of holds (src/modules/billing/holds.ts explains the design). Both functions lock the wallet's
-- balance row in a statement of their own first: the statement after it then runs on a snapshot taken after the
-- lock, so it sees every hold committed by whoever held the row before. That fixes one lock order — the balance
-- row, then holds — and no reservation ever inserts an idempotency key that exists (which would wait, holding the
-- balance row, for whoever is updating that hold: a deadlock with a poster waiting for the row).
--
-- Posts one wallet's settled holds: marks them posted, moves the balance row by their sum and appends one ledger
-- entry each, with the running balance_after / held_after. Returns how many it posted.
CREATE OR REPLACE FUNCTION opsbase_post_settled(p_org text, p_currency text) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  posted int;
BEGIN
  -- Nothing to post (the usual case when reservations keep posting as they go): done, without taking the lock.
  IF NOT EXISTS (SELECT 1 FROM holds h WHERE h.org_id = p_org AND h.currency = p_currency AND h.status <> 'open' AND h.posted_at IS NULL) THEN
    RETURN 0;
  END IF;
  PERFORM 1 FROM balances b WHERE b.org_id = p_org AND b.currency = p_currency FOR UPDATE;
  WITH hd AS (
    UPDATE holds h SET posted_at = now()
     WHERE h.org_id = p_org AND h.currency = p_currency AND h.status <> 'open' AND h.posted_at IS NULL
    RETURNING h.id, h.amount, h.operation, h.settled_at,
              CASE h.status WHEN 'committed' THEN 'commit' WHEN 'released' THEN 'release' ELSE 'expire' END AS kind,
              CASE WHEN h.status = 'committed' THEN -h.amount ELSE 0 END AS spent
  ), tot AS (
    SELECT count(*)::int AS n, coalesce(sum(hd.spent), 0)::bigint AS spent, coalesce(sum(hd.amount), 0)::bigint AS freed FROM hd
  ), bal AS (
    UPDATE balances b SET balance = b.balance + tot.spent, held = b.held - tot.freed, updated_at = now()
      FROM tot
     WHERE b.org_id = p_org AND b.currency = p_currency AND tot.n > 0
    RETURNING b.balance - tot.spent AS balance_before, b.held + tot.freed AS held_before
  ), e AS (
    INSERT INTO ledger_entries (id, org_id, currency, kind, amount, held_delta, balance_after, held_after, reference, hold_id)
    SELECT opsbase_new_id('led'), p_org, p_currency, hd.kind, hd.spent, -hd.amount,
           bal.balance_before + sum(hd.spent) OVER w, bal.held_before - sum(hd.amount) OVER w, hd.operation, hd.id
      FROM hd, bal
    WINDOW w AS (ORDER BY hd.settled_at, hd.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  )
  SELECT tot.n INTO posted FROM tot;
  RETURN posted;
END
$$;--> statement-breakpoint
-- Reserves a batch of one wallet's requests: requests whose key already has a hold get that hold (`existing`, as
-- rows); the new ones are taken in order while their running sum fits the available balance (`created`: their
-- keys; the caller knows the rest, and `at` is their created_at); the rest are refused. p_keys must be distinct.
CREATE OR REPLACE FUNCTION opsbase_reserve_holds(
  p_org text, p_currency text, p_hold_ids text[], p_entry_ids text[], p_keys text[], p_amounts bigint[],
  p_operations text[], p_references text[], p_ttls int[]
) RETURNS TABLE (created text[], existing json, balance bigint, held bigint, at timestamptz) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  avail bigint;
BEGIN
  SELECT b.balance - b.held INTO avail FROM balances b WHERE b.org_id = p_org AND b.currency = p_currency FOR UPDATE;
  IF NOT FOUND THEN
    -- A wallet's first reservation: create its row (at zero) so there is a row to lock. Without the lock, a row
    -- created concurrently would be read below unlocked, and its figures could be stale by the time it is updated.
    INSERT INTO balances (org_id, currency) VALUES (p_org, p_currency) ON CONFLICT DO NOTHING;
    SELECT b.balance - b.held INTO avail FROM balances b WHERE b.org_id = p_org AND b.currency = p_currency FOR UPDATE;
  END IF;
  -- Short of credits for the whole batch: post the settled holds first, under the same lock, so credits a release
  -- gave back count (and a refusal's figures are a state of the ledger). Otherwise posting is left to its own
  -- batched pass, which keeps this statement — and the wallet's lock — short.
  IF avail < (SELECT sum(a) FROM unnest(p_amounts) a) THEN
    PERFORM opsbase_post_settled(p_org, p_currency);
  END IF;
  RETURN QUERY
  WITH req AS (
    SELECT * FROM unnest(p_hold_ids, p_entry_ids, p_keys, p_amounts, p_operations, p_references, p_ttls)
           WITH ORDINALITY AS r(hold_id, entry_id, key, amount, operation, reference, ttl, ord)
  ), known AS (
    SELECT * FROM holds h WHERE h.org_id = p_org AND h.idempotency_key = ANY (p_keys)
  ), fresh AS (
    SELECT req.*, sum(req.amount) OVER (ORDER BY req.ord) AS cum
      FROM req WHERE req.key <> ALL (SELECT k.idempotency_key FROM known k)
  ), cur AS (
    SELECT b.balance, b.held FROM balances b WHERE b.org_id = p_org AND b.currency = p_currency
  ), ok AS (
    SELECT fresh.* FROM fresh, cur WHERE fresh.cum <= cur.balance - cur.held
  ), bal AS (
    UPDATE balances b SET held = b.held + (SELECT sum(ok.amount) FROM ok), updated_at = now()
     WHERE b.org_id = p_org AND b.currency = p_currency AND EXISTS (SELECT 1 FROM ok)
  ), h AS (
    INSERT INTO holds (id, org_id, currency, amount, operation, idempotency_key, reference, expires_at)
    SELECT ok.hold_id, p_org, p_currency, ok.amount, ok.operation, ok.key, ok.reference, now() + make_interval(secs => ok.ttl) FROM ok
    RETURNING idempotency_key
  ), e AS (
    INSERT INTO ledger_entries (id, org_id, currency, kind, amount, held_delta, balance_after, held_after, reference, hold_id)
    SELECT ok.entry_id, p_org, p_currency, 'hold', 0, ok.amount, cur.balance, cur.held + ok.cum, ok.operation, ok.hold_id FROM ok, cur
  )
  SELECT (SELECT coalesce(array_agg(h.idempotency_key), '{}') FROM h), (SELECT coalesce(json_agg(known), '[]') FROM known),
         (SELECT cur.balance FROM cur), (SELECT cur.held FROM cur), now();
END
$$;
