// The `opsbase mcp` command. The server code is imported only when the command runs, so other commands stay fast.
import type { Command } from 'commander';

export const DEFAULT_API_URL = 'http://localhost:4000';

export function registerMcpCommand(program: Command) {
  program
    .command('mcp')
    .description('serve every API operation as an MCP tool over stdio (for AI agents), against the API at --api-url')
    .option('--readonly', 'expose only read-only tools')
    .option('--org <id>', 'org to act in when the credential is a session token (X-Org-Id)')
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<{ readonly?: boolean; org?: string; apiUrl?: string; apiKey?: string }>();
      const { runStdio } = await import('./stdio.ts');
      await runStdio({
        apiUrl: opts.apiUrl || process.env.OPSBASE_API_URL || DEFAULT_API_URL,
        apiKey: opts.apiKey || process.env.OPSBASE_API_KEY || undefined,
        orgId: opts.org,
        readonly: opts.readonly === true,
      });
    });
}
