// `opsbase start` (API + worker), `serve` (API only) and `worker` (jobs only): run until SIGTERM/SIGINT, then
// stop accepting, drain in-flight requests and jobs (bounded), close the pool and the embedded cluster, exit 0.
import { closeServices, createApp, openServices } from './app.ts';
import { config } from './config.ts';
import { createLogger } from './http/logger.ts';
import { startWorker, type Worker } from './jobs/worker.ts';

const SHUTDOWN_LIMIT_MS = 20_000;

function onSignals(stop: (signal: string) => Promise<void>) {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      console.error(`shutdown took longer than ${SHUTDOWN_LIMIT_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    stop(signal).then(
      () => process.exit(0),
      (err) => {
        console.error('shutdown failed:', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

export async function runServer(opts: { worker: boolean }) {
  const cfg = config();
  const app = await createApp({ config: cfg });
  const log = app.services.log;
  let worker: Worker | undefined;
  onSignals(async (signal) => {
    log.info({ signal }, 'shutting down: draining requests and jobs');
    await app.server.close();
    // Handlers whose client went away still run: let them finish before the pool closes.
    await app.server.inflight.idle(10_000);
    await worker?.stop();
    await closeServices(app.services);
    log.info('stopped');
  });
  if (opts.worker) worker = await startWorker(app.services);
  await app.server.listen({ port: cfg.PORT, host: cfg.HOST });
  log.info({ url: `http://localhost:${cfg.PORT}`, docs: `http://localhost:${cfg.PORT}/api/docs`, worker: opts.worker }, 'opsbase is running');
}

export async function runWorkerOnly() {
  const cfg = config();
  const log = createLogger(cfg.LOG_LEVEL);
  const services = await openServices(cfg, log);
  // Signals are handled before the worker starts: one that arrives while it registers still stops it cleanly.
  let worker: Worker | undefined;
  let starting: Promise<Worker> | undefined;
  onSignals(async (signal) => {
    log.info({ signal }, 'worker shutting down: finishing jobs');
    await (worker ?? (await starting?.catch(() => undefined)))?.stop();
    await closeServices(services);
  });
  starting = startWorker(services);
  worker = await starting;
}
