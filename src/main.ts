// The `opsbase` command: process commands (start, serve, worker, init, doctor), login/logout, mcp, and every
// API operation as a command. It loads only the operations' contracts (src/cli/manifest.json) and commander:
// what only some commands need — the server for start/serve/worker/init/doctor, the MCP SDK for mcp — is
// imported when that command runs (test/cli-startup.test.ts holds `opsbase --json whoami` to that).
import { Command } from 'commander';
import { VERSION } from './version.ts';
import { registerProcessCommands } from './cli/process-commands.ts';
import { registerApiCommands } from './cli/commands.ts';
import { registerMcpCommand } from './mcp/command.ts';

const program = new Command('opsbase')
  .version(VERSION)
  .description('Opsbase: the operating system for businesses run by people and AI agents')
  .option('--json', 'print the API JSON exactly, nothing else')
  .option('--api-url <url>', 'API base URL (default $OPSBASE_API_URL or http://localhost:4000)')
  .option('--api-key <key>', 'API key or session token (default $OPSBASE_API_KEY or the saved login)');

registerProcessCommands(program);
registerApiCommands(program, process.argv.slice(2));
registerMcpCommand(program);

await program.parseAsync(process.argv);
