// `opsbase mcp`: an MCP server on stdin/stdout for a local agent, acting on a running API over HTTP with the
// configured credential. Its tools come from the contracts (src/cli/manifest.json), like the CLI's commands: no
// registry, no server code. stdout carries the protocol, so nothing else may ever be written there.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { contracts } from '../cli/contract.ts';
import { fetchExecutor } from './executor.ts';
import { createMcpServer } from './tools.ts';

export interface StdioOptions {
  apiUrl: string;
  apiKey?: string;
  orgId?: string;
  readonly: boolean;
  toolsets?: string;
}

const HOW_TO_ENABLE =
  'ask the user to restart `opsbase mcp` with --toolsets <names> (comma-separated; `all` for every toolset, ' +
  '`default` for the default set), e.g. in the MCP client configuration';

/** Builds the server first, so a bad --toolsets fails before anything is served (UnknownToolset). */
export function stdioServer({ apiUrl, apiKey, orgId, readonly, toolsets }: StdioOptions): Server {
  const executor = fetchExecutor({ baseUrl: apiUrl, credential: apiKey, orgId });
  return createMcpServer({ contracts: contracts(), executor, readonly, toolsets, howToEnable: HOW_TO_ENABLE });
}

export async function runStdio(server: Server, { apiUrl, apiKey, readonly }: StdioOptions): Promise<void> {
  // A stray console.log anywhere (ours or a dependency's) would corrupt the JSON-RPC stream.
  console.log = console.info = console.debug = console.error;
  await server.connect(new StdioServerTransport());
  console.error(`opsbase mcp: serving ${readonly ? 'read-only ' : ''}tools over stdio for ${apiUrl}`);
  if (!apiKey) console.error('opsbase mcp: no credential (--api-key or OPSBASE_API_KEY): only public tools will succeed');

  // The client ends the session by closing our stdin (or signalling): leave promptly and cleanly.
  const exit = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on('end', exit);
  process.once('SIGTERM', exit);
  process.once('SIGINT', exit);
}
