// The `opsbase mcp` command. The MCP SDK and the tools are imported only when the command runs, so other commands
// stay fast.
import type { Command } from 'commander';
import { DEFAULT_API_URL } from '../cli/client.ts';
import { cliEnv } from '../cli/env.ts';
import type { StdioOptions } from './stdio.ts';

interface McpOptions {
  readonly?: boolean;
  org?: string;
  toolsets?: string;
  apiUrl?: string;
  apiKey?: string;
}

export function registerMcpCommand(program: Command) {
  program
    .command('mcp')
    .description('serve the API operations as MCP tools over stdio (for AI agents), against the API at --api-url')
    .option('--toolsets <names>', 'toolsets to serve, comma-separated; `all`, or `default` plus others (the list_toolsets tool lists them)')
    .option('--readonly', 'expose only read-only tools')
    .option('--org <id>', 'org to act in when the credential is a session token (X-Org-Id)')
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<McpOptions>();
      const { stdioServer, runStdio } = await import('./stdio.ts');
      let options: StdioOptions;
      let server: ReturnType<typeof stdioServer>;
      // A bad --toolsets or OPSBASE_API_URL is a usage error, said on stderr before anything is served.
      try {
        const env = cliEnv();
        options = {
          apiUrl: opts.apiUrl || env.OPSBASE_API_URL || DEFAULT_API_URL,
          apiKey: opts.apiKey || env.OPSBASE_API_KEY,
          orgId: opts.org,
          readonly: opts.readonly === true,
          toolsets: opts.toolsets,
        };
        server = stdioServer(options);
      } catch (err) {
        command.error(`error: ${(err as Error).message}`, { exitCode: 2 });
      }
      await runStdio(server, options);
    });
}
