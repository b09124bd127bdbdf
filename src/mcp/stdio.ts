// `opsbase mcp`: an MCP server on stdin/stdout for a local agent, acting on a running API over HTTP with the
// configured credential. stdout carries the protocol, so nothing else may ever be written there.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { operations } from '../operations.ts';
import { fetchExecutor } from './executor.ts';
import { createMcpServer } from './tools.ts';

export interface StdioOptions {
  apiUrl: string;
  apiKey?: string;
  orgId?: string;
  readonly: boolean;
}

export async function runStdio({ apiUrl, apiKey, orgId, readonly }: StdioOptions): Promise<void> {
  // A stray console.log anywhere (ours or a dependency's) would corrupt the JSON-RPC stream.
  console.log = console.info = console.debug = console.error;

  const server = createMcpServer({ operations, executor: fetchExecutor({ baseUrl: apiUrl, credential: apiKey, orgId }), readonly });
  const transport = new StdioServerTransport();
  await server.connect(transport);
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
