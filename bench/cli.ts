// `npm run bench -- cli`: how long the CLI takes to answer, as an agent driving it sees it. Starts a real server
// (`opsbase serve`, embedded PostgreSQL in a fresh data dir), then runs `opsbase --json whoami` (the package bin,
// as `npx opsbase` runs it, with its compile cache) and `node -e 0` with the same pinned Node, alternately, 20
// times each after uncounted warm-up runs, and prints the median wall time of each. Last line:
// `ratio cli: <cli median / node median>`. Targets (issue 9): CLI median <= 0.25 s and ratio <= 3.
// Alternating the two keeps other work on the machine from favouring either; the ratio is the figure to trust.
//
// Options: --runs N (default 20), --warmup N (default 3).
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanUp, cleanUpOnSignals, createTenant, ROOT, startOpsbase } from './lib/opsbase.ts';

const MEDIAN_TARGET_S = 0.25;
const RATIO_TARGET = 3;

interface Timed {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Wall time from spawn to exit of `node <args>` with the pinned Node. */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: (performance.now() - start) / 1000, code, stdout, stderr }));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function describe(label: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const p90 = s[Math.min(s.length - 1, Math.ceil(s.length * 0.9) - 1)];
  return `${label.padEnd(26)} median ${median(xs).toFixed(3)} s  (min ${s[0].toFixed(3)}, p90 ${p90.toFixed(3)}, max ${s[s.length - 1].toFixed(3)}) over ${xs.length} runs`;
}

export default async function cli(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) throw new Error('--runs and --warmup take whole numbers');

  cleanUpOnSignals();
  console.log(
    `cli: \`opsbase --json whoami\` and \`node -e 0\`, ${runs} runs each after ${warmup} warm-ups (Node ${process.version}, ${availableParallelism()} CPUs)`,
  );
  const [load1] = loadavg();
  if (load1 > 0.5) console.log(`note: load average ${load1.toFixed(2)} before the run; other work on this machine slows both alike`);

  const bin = join(ROOT, 'bin', 'opsbase.js');
  const cliTimes: number[] = [];
  const nodeTimes: number[] = [];
  try {
    const server = await startOpsbase();
    const { key, orgId } = await createTenant(server.base);
    // No saved login, no colour: only the key and the server given here.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OPSBASE_API_URL: server.base,
      OPSBASE_API_KEY: key,
      XDG_CONFIG_HOME: server.dataDir,
      NO_COLOR: '1',
    };
    for (let i = 0; i < warmup + runs; i++) {
      const whoami = await timed([bin, '--json', 'whoami'], env);
      if (whoami.code !== 0 || JSON.parse(whoami.stdout).org?.id !== orgId) {
        throw new Error(`opsbase --json whoami failed (exit ${whoami.code}): ${whoami.stderr || whoami.stdout}`);
      }
      const bare = await timed(['-e', '0'], env);
      if (i < warmup) continue;
      cliTimes.push(whoami.seconds);
      nodeTimes.push(bare.seconds);
    }
  } finally {
    await cleanUp();
  }

  console.log(describe('opsbase --json whoami', cliTimes));
  console.log(describe('node -e 0', nodeTimes));
  const ratio = median(cliTimes) / median(nodeTimes);
  console.log(`target median <= ${MEDIAN_TARGET_S} s: ${median(cliTimes) <= MEDIAN_TARGET_S ? 'PASS' : 'FAIL'} (${median(cliTimes).toFixed(3)} s)`);
  console.log(`target ratio <= ${RATIO_TARGET}: ${ratio <= RATIO_TARGET ? 'PASS' : 'FAIL'} (${ratio.toFixed(2)})`);
  console.log(`ratio cli: ${ratio.toFixed(2)}`);
}
