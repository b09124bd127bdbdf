// Everything an llm run of an agent needs before its loop starts, in one call: the model (instance settings under
// the agent's own), the system prompt (template identity, instructions, rules — with the rule ids to record), the
// tools of its allow-list acting as the agent through `server`'s own routes, and the loop limits from its
// runtime_config. The runs round calls this, then `runModelLoop({ ...setup.limits, model, system: system.prompt,
// tools, prompt: <the task>, onEvent, beforeNextStep })`.
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { ToolSet } from 'ai';
import type { FastifyInstance } from 'fastify';
import { agentExecutor, agentTools } from '../../ai/tools.ts';
import type { AppServices } from '../../core/services.ts';
import type { agents } from '../../db/schema/agents.ts';
import { decrypt } from '../../core/crypto.ts';
import { AiConfigError } from '../../ai/provider.ts';
import { readCredentialFor } from '../credentials/service.ts';
import { modelFor } from './model.ts';
import { type SystemPrompt, systemPromptFor } from './prompt.ts';
import type { LlmRuntimeConfig } from './runtime-config.ts';
import { allOperations } from './validate.ts';

export interface LlmRunSetup {
  model: LanguageModelV4;
  system: SystemPrompt;
  tools: ToolSet;
  limits: { maxSteps: number; maxOutputTokens?: number; temperature?: number; timeoutMs: number };
}

/**
 * The provider key the agent names in the vault, read now (so a replaced value applies from the next run) and logged
 * as used by the agent. A name the vault no longer has fails the run with what to fix.
 */
async function vaultKey(services: AppServices, agent: typeof agents.$inferSelect, rc: LlmRuntimeConfig): Promise<string | null> {
  if (!rc.api_key_credential) return null;
  const value = await readCredentialFor(
    services.database.db,
    services.masterKey,
    { orgId: agent.orgId, name: rc.api_key_credential },
    { actorType: 'agent', actorId: agent.id, purpose: 'model provider key' },
  );
  if (value === null) throw new AiConfigError('api_key', `The vault has no credential named \`${rc.api_key_credential}\` (runtime_config.api_key_credential of agent ${agent.name}).`);
  return value;
}

/** `system`: the system prompt when the caller already started reading it (a run does, while it starts). */
export async function llmRunSetup(
  services: AppServices,
  server: FastifyInstance,
  agent: typeof agents.$inferSelect,
  system?: Promise<SystemPrompt>,
): Promise<LlmRunSetup> {
  const db = services.database.db;
  // The row already holds the sealed credential: no second read.
  const credential = decrypt(agent.keySecretEncrypted, services.masterKey);
  const rc = agent.runtimeConfig as LlmRuntimeConfig;
  return {
    model: modelFor(agent, services.config, services.masterKey, await vaultKey(services, agent, rc)),
    system: await (system ?? systemPromptFor(db, agent)),
    tools: agentTools({
      allow: agent.tools,
      operations: await allOperations(),
      executor: agentExecutor(server, credential),
      allowPrivateNetwork: services.config.OPSBASE_ALLOW_PRIVATE_NETWORK,
    }),
    limits: { maxSteps: rc.max_steps ?? 10, maxOutputTokens: rc.max_output_tokens, temperature: rc.temperature, timeoutMs: (rc.timeout_sec ?? 300) * 1000 },
  };
}
