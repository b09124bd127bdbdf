// Latency figures shared by the benchmarks: closed loops for a fixed time after an uncounted warm-up, p50/p99.

export interface Figures {
  label: string;
  n: number;
  p50: number;
  p99: number;
  errors: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `once` from `concurrency` loops for `seconds` (after a 1 s uncounted warm-up); latencies in ms. */
export async function measure(label: string, seconds: number, concurrency: number, once: (i: number) => Promise<void>): Promise<Figures> {
  const run = async (ms: number, record: boolean) => {
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
    return { latencies: latencies.sort((a, b) => a - b), errors };
  };
  await run(1000, false);
  const { latencies, errors } = await run(seconds * 1000, true);
  return { label, n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

export const fmt = (f: Figures) =>
  `${f.label.padEnd(52)} p50 ${f.p50.toFixed(2).padStart(7)} ms  p99 ${f.p99.toFixed(2).padStart(7)} ms  (${f.n} calls, ${f.errors} errors)`;
