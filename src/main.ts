// The `opsbase` command: process commands (start, serve, worker, init, doctor), login/logout, mcp, and every
// API operation of the registry as a command.
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
registerApiCommands(program);
registerMcpCommand(program);

await program.parseAsync(process.argv);
