// Each runtime's `runtime_config`, validated when an agent is saved: a wrong field is a 400 naming it
// (`runtime_config.url`), a forbidden one a 422 (a `process` agent on an instance that does not allow them, an `http`
// or llm base URL the private-network guard refuses).
import { z } from 'zod';
import { AI_PROVIDERS } from '../../ai/provider.ts';
import { type Ctx, requireOrg } from '../../core/context.ts';
import { invalid, unprocessable } from '../../core/errors.ts';
import { checkOutboundUrl } from '../../core/net-guard.ts';
import type { AgentRuntime } from '../../db/schema/agents.ts';
import { credentialExists } from '../credentials/service.ts';

const TimeoutSec = z.number().int().min(1).max(3600).optional().describe('How long one run may take (seconds)');
/** What every runtime's config may say about how its runs end. */
const Common = {
  timeout_sec: TimeoutSec,
  on_success: z.enum(['in_review', 'done']).optional().describe('Where a successful run leaves its task (default in_review)'),
};

export const LlmConfig = z
  .object({
    provider: z.enum(AI_PROVIDERS).optional().describe("The agent's own model provider (default: the instance's OPSBASE_AI_PROVIDER)"),
    base_url: z.string().max(2000).optional().describe('OpenAI-compatible server or vendor URL (e.g. http://localhost:11434/v1)'),
    api_key_credential: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('The name of a vault credential holding the provider key (read at each run; wins over provider_api_key)'),
    temperature: z.number().min(0).max(2).optional(),
    max_steps: z.number().int().min(1).max(50).optional().describe('Model calls per run (default 10)'),
    max_output_tokens: z.number().int().min(1).max(1_000_000).optional(),
    ...Common,
  })
  .strict();

export const HttpConfig = z
  .object({
    url: z.string().min(1).max(2000).describe('Where each run is POSTed (http or https; private hosts refused)'),
    method: z.enum(['POST', 'PUT']).optional(),
    lease_sec: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe('Silence allowed between the agent\'s reports (runs.report) before the run times out (default 60)'),
    ...Common,
  })
  .strict();

export const ProcessConfig = z
  .object({
    command: z.string().min(1).max(1000),
    args: z.array(z.string().max(4000)).max(100).optional(),
    cwd: z.string().max(1000).optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string().max(10_000)).optional(),
    ...Common,
  })
  .strict();

const SCHEMAS = { llm: LlmConfig, http: HttpConfig, process: ProcessConfig } as const;
export type LlmRuntimeConfig = z.infer<typeof LlmConfig>;

async function guard(ctx: Ctx, url: string, field: string) {
  const check = await checkOutboundUrl(url, { allowPrivate: ctx.services.config.OPSBASE_ALLOW_PRIVATE_NETWORK });
  if (!check.ok) throw unprocessable(check.message, { field, reason: check.reason });
}

/** The config as stored, or a 400 / 422 that names the field. */
export async function validateRuntimeConfig(ctx: Ctx, runtime: AgentRuntime, raw: unknown): Promise<Record<string, unknown>> {
  if (runtime === 'process' && !ctx.services.config.OPSBASE_ALLOW_PROCESS_AGENTS) {
    throw unprocessable('Agents of the `process` runtime run commands on the server: this instance does not allow them (OPSBASE_ALLOW_PROCESS_AGENTS=true).', {
      field: 'runtime',
    });
  }
  const parsed = SCHEMAS[runtime].safeParse(raw ?? {});
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => {
      // An unknown key is named itself, not its parent.
      const keys = i.code === 'unrecognized_keys' ? (i as { keys: string[] }).keys : [''];
      return keys.map((k) => ({ field: ['runtime_config', ...i.path.map(String), k].filter(Boolean).join('.'), location: 'body', message: i.message }));
    });
    const flat = details.flat();
    throw invalid(`Invalid runtime_config for the ${runtime} runtime: ${flat.map((d) => `${d.field}: ${d.message}`).join('; ')}`, flat);
  }
  const config = parsed.data as Record<string, unknown>;
  if (runtime === 'http') await guard(ctx, config.url as string, 'runtime_config.url');
  if (runtime === 'llm' && typeof config.base_url === 'string') await guard(ctx, config.base_url, 'runtime_config.base_url');
  if (runtime === 'llm' && typeof config.api_key_credential === 'string' && !(await credentialExists(ctx.db, requireOrg(ctx), config.api_key_credential))) {
    throw unprocessable(`The vault has no credential named \`${config.api_key_credential}\`: put it first (credentials.put).`, {
      field: 'runtime_config.api_key_credential',
    });
  }
  return config;
}
