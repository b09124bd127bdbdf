// Latency figures shared by the benchmarks: closed loops for a fixed time after an uncounted warm-up, p50/p99.

export interface Figures {
  label: string;
  n: number;
  p50: number;
  p99: number;
  errors: number;
  /** measurePair's figures round by round (p50, p99), in order. */
  rounds?: { p50: number; p99: number }[];
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type Once = (i: number) => Promise<void>;

/** `concurrency` closed loops calling `once` for `ms`; the latencies (sorted, ms) when `record`, and the errors. */
async function loops(label: string, ms: number, concurrency: number, once: Once, record: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + ms;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t0 = performance.now();
        try {
          await once(i++);
          if (record) latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (errors === 1) console.error(`${label}: ${(err as Error).message}`);
        }
      }
    }),
  );
  return { latencies, errors };
}

const figures = (label: string, latencies: number[], errors: number): Figures => {
  latencies.sort((a, b) => a - b);
  return { label, n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
};

/** Runs `once` from `concurrency` loops for `seconds` (after a 1 s uncounted warm-up); latencies in ms. */
export async function measure(label: string, seconds: number, concurrency: number, once: Once): Promise<Figures> {
  await loops(label, 1000, concurrency, once, false);
  const { latencies, errors } = await loops(label, seconds * 1000, concurrency, once, true);
  return figures(label, latencies, errors);
}

/**
 * Two figures to be compared (the API and the SQL it runs), measured in alternating rounds — a, b, a, b … —
 * `seconds` in all for each, after an uncounted warm-up of `warmupSeconds` each: a change in the shared machine's
 * speed during the run (a background flush, a neighbour) then falls on both alike instead of on whichever ran at that
 * moment.
 */
export async function measurePair(
  labels: [string, string],
  seconds: number,
  concurrency: number,
  a: Once,
  b: Once,
  { rounds = 4, warmupSeconds = 1 } = {},
): Promise<[Figures, Figures]> {
  const all = [
    { label: labels[0], once: a, latencies: [] as number[], errors: 0, rounds: [] as { p50: number; p99: number }[] },
    { label: labels[1], once: b, latencies: [] as number[], errors: 0, rounds: [] as { p50: number; p99: number }[] },
  ];
  for (const x of all) await loops(x.label, warmupSeconds * 1000, concurrency, x.once, false);
  for (let r = 0; r < rounds; r++) {
    for (const x of all) {
      const got = await loops(x.label, (seconds * 1000) / rounds, concurrency, x.once, true);
      x.latencies.push(...got.latencies);
      x.errors += got.errors;
      got.latencies.sort((p, q) => p - q);
      x.rounds.push({ p50: percentile(got.latencies, 50), p99: percentile(got.latencies, 99) });
    }
  }
  return [
    { ...figures(all[0].label, all[0].latencies, all[0].errors), rounds: all[0].rounds },
    { ...figures(all[1].label, all[1].latencies, all[1].errors), rounds: all[1].rounds },
  ];
}

export const fmt = (f: Figures) =>
  `${f.label.padEnd(52)} p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms  (${f.n} calls, ${f.errors} errors)` +
  (f.rounds ? `\n${''.padEnd(52)} by round p50/p99: ${f.rounds.map((r) => `${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`).join('  ')}` : '');
