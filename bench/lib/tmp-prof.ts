import { api, cleanUp, createApiKey, startOpsbase } from './opsbase.ts';
const o = await startOpsbase({ env: { NODE_OPTIONS: '--cpu-prof --cpu-prof-dir=/tmp/prof' } });
const headers = { authorization: `Bearer ${await createApiKey(o.base)}` };
const t0 = performance.now();
for (let i = 0; i < 20000; i += 1000) {
  const batch = Array.from({ length: 1000 }, (_, k) => ({ payload: { n: i + k, note: 'benchmark job' } }));
  await api(o.base, 'POST', '/api/v1/queue/jobs', { queue: 'p', task_type: 'bench', jobs: batch }, headers);
}
const t1 = performance.now();
await Promise.all(
  Array.from({ length: 4 }, async (_, c) => {
    for (;;) {
      const got = await api(o.base, 'POST', '/api/v1/queue/claim', { worker_id: `w${c}`, queue: 'p', batch_size: 100, lease_seconds: 60 }, headers);
      if (!got.data.length) return;
      await api(
        o.base,
        'POST',
        '/api/v1/queue/complete',
        { worker_id: `w${c}`, jobs: got.data.map((j: any) => ({ id: j.id, result: { n: j.payload.n } })) },
        headers,
      );
    }
  }),
);
const t2 = performance.now();
console.log(`submit ${Math.round(t1 - t0)} ms, drain ${Math.round(t2 - t1)} ms`);
await cleanUp();
