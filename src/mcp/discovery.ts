// `list_toolsets`: the one tool that is always listed besides `context`. It tells the agent which toolsets exist,
// which are on, which tools each holds, and how to ask for more (toolsets are chosen when the client connects:
// POST /mcp is stateless, so there is no "enable" call that could outlive the request).
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { describeToolset } from './toolsets.ts';

export const DISCOVERY_TOOL = 'list_toolsets';

const strings = { type: 'array', items: { type: 'string' } };

export const discoveryTool: Tool = {
  name: DISCOVERY_TOOL,
  title: 'List toolsets',
  description:
    'Lists every toolset of this Opsbase server: what it is for, whether it is enabled in this session, and the tools it holds. ' +
    'Call it when a tool you need is missing; `how_to_enable` says how to get more toolsets.',
  inputSchema: { type: 'object', properties: {} },
  outputSchema: {
    type: 'object',
    properties: {
      enabled: { ...strings, description: 'Toolsets whose tools are listed in this session' },
      toolsets: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, description: { type: 'string' }, enabled: { type: 'boolean' }, tools: strings },
          required: ['name', 'description', 'enabled', 'tools'],
        },
      },
      how_to_enable: { type: 'string' },
    },
    required: ['enabled', 'toolsets', 'how_to_enable'],
  },
  annotations: { title: 'List toolsets', readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
};

/** `byToolset`: every toolset's tool names (those this server would expose); `enabled`: the ones on. */
export function discoveryResult(byToolset: Map<string, string[]>, enabled: Set<string>, howToEnable: string): CallToolResult {
  const body = {
    enabled: [...enabled],
    toolsets: [...byToolset].map(([name, tools]) => ({ name, description: describeToolset(name), enabled: enabled.has(name), tools })),
    how_to_enable: howToEnable,
  };
  return { content: [{ type: 'text', text: JSON.stringify(body, null, 2) }], structuredContent: body };
}
