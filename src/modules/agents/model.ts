// The language model an llm agent runs on: the instance's settings with the agent's own model, provider, base URL
// and (decrypted) key over them. Runs call this; its errors (AiConfigError) say what to configure.
import type { LanguageModelV4 } from '@ai-sdk/provider';
import { agentSettings, instanceSettings, languageModel } from '../../ai/provider.ts';
import type { Config } from '../../config.ts';
import { decrypt } from '../../core/crypto.ts';
import { guardedFetchFunction } from '../../core/guarded-fetch.ts';
import type { agents } from '../../db/schema/agents.ts';
import type { LlmRuntimeConfig } from './runtime-config.ts';

/** `vaultKey`: the value of the credential the agent names in `api_key_credential`, read by the caller (llm-run.ts). */
export function modelFor(agent: typeof agents.$inferSelect, config: Config, masterKey: Buffer, vaultKey: string | null = null): LanguageModelV4 {
  const rc = agent.runtimeConfig as LlmRuntimeConfig;
  const settings = agentSettings(instanceSettings(config), {
    provider: rc.provider ?? null,
    model: agent.model,
    baseUrl: rc.base_url ?? null,
    apiKey: vaultKey ?? (agent.providerKeyEncrypted ? decrypt(agent.providerKeyEncrypted, masterKey) : null),
  });
  // The agent's own base URL passed the private-network guard when saved; its DNS is checked again at every connection
  // (a host rebinding to an inside address later cannot be reached). The instance's own URL is the operator's: trusted.
  if (rc.base_url) settings.fetch = guardedFetchFunction(config.OPSBASE_ALLOW_PRIVATE_NETWORK);
  return languageModel(settings);
}
