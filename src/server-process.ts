// `opsbase start` / `serve`: run the server until SIGTERM/SIGINT, then shut down gracefully.
import { config } from './config.ts';
import { createApp } from './app.ts';

export async function runServer(opts: { worker: boolean }) {
  const cfg = config();
  const app = await createApp({ config: cfg });
  const log = app.services.log;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining requests');
    const force = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    await app.close();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await app.server.listen({ port: cfg.PORT, host: cfg.HOST });
  log.info({ url: `http://localhost:${cfg.PORT}`, docs: `http://localhost:${cfg.PORT}/api/docs`, worker: opts.worker }, 'opsbase is running');
  return app;
}
