// Commands that run Opsbase itself rather than call its API.
import type { Command } from 'commander';

export function registerProcessCommands(program: Command) {
  program
    .command('start')
    .description('run the API server and the worker in one process (embedded PostgreSQL unless DATABASE_URL is set)')
    .action(async () => {
      const { runServer } = await import('../server-process.ts');
      await runServer({ worker: true });
    });

  program
    .command('serve')
    .description('run only the API server')
    .action(async () => {
      const { runServer } = await import('../server-process.ts');
      await runServer({ worker: false });
    });
}
