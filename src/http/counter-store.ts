// Where instances share rate-limit counts: PostgreSQL by default, Redis when REDIS_URL is set (DESIGN §7).
import type pg from 'pg';

export interface CounterAdd {
  bucket: string;
  windowStart: number;
  windowMs: number;
  count: number;
}

export interface CounterStore {
  /** Adds each count to its (bucket, window) and returns the new totals, in order, in one round trip. */
  add(entries: CounterAdd[]): Promise<number[]>;
  close(): Promise<void>;
}

export function postgresCounterStore(pool: pg.Pool): CounterStore {
  return {
    async add(entries) {
      const { rows } = await pool.query<{ bucket: string; window_start: Date; count: number }>(
        `insert into rate_limit_counters (bucket, window_start, count)
         select * from unnest($1::text[], $2::timestamptz[], $3::int[])
         on conflict (bucket, window_start) do update set count = rate_limit_counters.count + excluded.count
         returning bucket, window_start, count`,
        [entries.map((e) => e.bucket), entries.map((e) => new Date(e.windowStart).toISOString()), entries.map((e) => e.count)],
      );
      const totals = new Map(rows.map((r) => [`${r.bucket}|${r.window_start.getTime()}`, r.count]));
      return entries.map((e) => totals.get(`${e.bucket}|${e.windowStart}`) ?? e.count);
    },
    // Old windows are pruned by the maintenance job.
    close: async () => {},
  };
}

export async function redisCounterStore(url: string): Promise<CounterStore> {
  // Loaded only when configured: most installs never need the Redis client.
  const { createClient } = await import('redis');
  const client = createClient({ url });
  // Errors surface on the next add() (and are logged there); without a listener they would crash the process.
  client.on('error', () => {});
  await client.connect();
  return {
    async add(entries) {
      const multi = client.multi();
      for (const e of entries) {
        const key = `opsbase:rl:${e.bucket}:${e.windowStart}`;
        multi.incrBy(key, e.count);
        // Keep a window a minute past its end, then let Redis drop it.
        multi.pExpireAt(key, e.windowStart + e.windowMs + 60_000);
      }
      const replies = await multi.exec();
      return entries.map((_, i) => Number(replies[i * 2]));
    },
    close: async () => {
      await client.quit().catch(() => {});
    },
  };
}
