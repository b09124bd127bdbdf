// Commands that run Opsbase itself rather than call its API: start, serve, worker, init, doctor.
import type { Command } from 'commander';
import { GROUPS } from './groups.ts';
import { type PasswordOptions, passwordFor, readStdin } from './prompt.ts';

interface InitOptions extends PasswordOptions {
  email: string;
  org: string;
  username?: string;
}

/** Start-up failures are explained, not dumped as a stack: the message says what is wrong and what to do. */
async function orExplain(run: () => Promise<void>) {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

export function registerProcessCommands(program: Command) {
  program
    .command('start')
    .description('run the API server and the worker in one process (embedded PostgreSQL unless DATABASE_URL is set)')
    .action(() =>
      orExplain(async () => {
        const { runServer } = await import('../server-process.ts');
        await runServer({ worker: true });
      }),
    );

  program
    .command('serve')
    .description('run only the API server (scale out: any number against one PostgreSQL)')
    .action(() =>
      orExplain(async () => {
        const { runServer } = await import('../server-process.ts');
        await runServer({ worker: false });
      }),
    );

  program
    .command('worker')
    .description('run only the background job worker')
    .action(() =>
      orExplain(async () => {
        const { runWorkerOnly } = await import('../server-process.ts');
        await runWorkerOnly();
      }),
    );

  program
    .command('init')
    .description('create the first owner (instance admin), their org and an API key (shown once); works with or without a running server')
    .requiredOption('--email <email>', 'email of the first owner')
    .requiredOption('--org <name>', 'name of the first org')
    .option('--username <username>', 'username (default: from the email)')
    .option('--password-stdin', 'read the password from stdin (for scripts); on a terminal it is asked without echo')
    .option('--password <password>', 'the password as an argument: visible to other users in `ps`; prefer --password-stdin')
    .action(async (opts: InitOptions, command: Command) => {
      const json = Boolean(program.opts().json);
      const password = await passwordFor(command, opts, 'Password for the first owner (at least 8 characters): ');
      // The server's code (database, services) loads only now, when init really runs.
      const { runInit } = await import('./init.ts');
      const { printInitResult, printFailure } = await import('./process-output.ts');
      try {
        printInitResult(await runInit({ email: opts.email, org: opts.org, username: opts.username, password }), json);
      } catch (err) {
        process.exitCode = printFailure(err, json);
      }
    });

  // The vault's API commands (list, put, get, delete) join this group when the operations are registered.
  program
    .command('credentials')
    .description(GROUPS.credentials)
    .command('rotate-master-key')
    .description('re-encrypt every stored secret under a new master key, in one transaction (stop servers and workers first; acts on the database directly)')
    .option('--new-key-stdin', 'read the new key from stdin (64 hex characters or base64 of 32 bytes); required when OPSBASE_MASTER_KEY is set')
    .option('--new-key <key>', 'the new key as an argument (visible in `ps`; prefer --new-key-stdin)')
    .action(async (opts: { newKeyStdin?: boolean; newKey?: string }) => {
      const json = Boolean(program.opts().json);
      const { runRotateMasterKey } = await import('./rotate-master-key.ts');
      const { printFailure } = await import('./process-output.ts');
      try {
        const newKey = opts.newKeyStdin ? await readStdin() : opts.newKey;
        const out = await runRotateMasterKey({ newKey });
        if (json) console.log(JSON.stringify(out, null, 2));
        else {
          for (const c of out.columns) console.log(`${c.table}.${c.column}: ${c.rows} re-encrypted`);
          console.log(`${out.total} values now under the new key.\n${out.next_steps}`);
        }
      } catch (err) {
        process.exitCode = printFailure(err, json);
      }
    });

  program
    .command('backup')
    .description('write an archive of the whole database (every table, one consistent snapshot) to a file; see docs/backups.md')
    .option('-o, --out <file>', 'where to write it (default ./opsbase-backup-<time>.jsonl.gz)')
    .action(async (opts: { out?: string }) => {
      const { runBackupCommand } = await import('./backup-commands.ts');
      process.exitCode = await runBackupCommand(opts, Boolean(program.opts().json));
    });

  program
    .command('restore')
    .description('restore an archive (from `opsbase backup` or backups.download) into an EMPTY database; exit 3 when refused')
    .argument('<file>', 'the archive')
    .action(async (file: string) => {
      const { runRestoreCommand } = await import('./backup-commands.ts');
      process.exitCode = await runRestoreCommand(file, Boolean(program.opts().json));
    });

  program
    .command('doctor')
    .description('check node, data dir, database, port and configuration, and say what is wrong')
    .action(async () => {
      const { runDoctor } = await import('./doctor.ts');
      process.exitCode = await runDoctor(Boolean(program.opts().json));
    });
}
