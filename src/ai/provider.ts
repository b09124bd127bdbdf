// Configuration → an AI SDK language model (DESIGN §9). The instance's `OPSBASE_AI_*` variables give the default;
// an agent may name its own model, provider, base URL and key (stored encrypted on the agent, see
// modules/agents/secrets.ts). `offline` needs nothing and is the default, so every flow runs with no network.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV4 } from '@ai-sdk/provider';
import type { Config } from '../config.ts';
import { OFFLINE_MODEL_ID, OfflineModel } from './offline.ts';

export const AI_PROVIDERS = ['offline', 'openai', 'anthropic', 'openai-compatible'] as const;
export type AiProvider = (typeof AI_PROVIDERS)[number];

export interface ModelSettings {
  provider: AiProvider;
  /** The vendor's model id (`gpt-4o-mini`, `claude-haiku-4-5`, `llama3.1` …). */
  model?: string | null;
  /** Any OpenAI-compatible server (Ollama, vLLM, llama.cpp): e.g. `http://localhost:11434/v1`. Also overrides the vendor's URL. */
  baseUrl?: string | null;
  apiKey?: string | null;
  /** How the provider reaches `baseUrl` when not with the global fetch: a URL an org gave goes through the guard (guardedFetchFunction). */
  fetch?: typeof fetch;
}

/** Thrown for settings that cannot make a model (no key, no base URL): the message says what to set. */
export class AiConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'AiConfigError';
    this.field = field;
  }
}

/** The instance's settings (`OPSBASE_AI_*`). */
export function instanceSettings(config: Pick<Config, 'OPSBASE_AI_PROVIDER' | 'OPSBASE_AI_MODEL' | 'OPSBASE_AI_BASE_URL' | 'OPSBASE_AI_API_KEY'>): ModelSettings {
  return {
    provider: config.OPSBASE_AI_PROVIDER,
    model: config.OPSBASE_AI_MODEL,
    baseUrl: config.OPSBASE_AI_BASE_URL,
    apiKey: config.OPSBASE_AI_API_KEY,
  };
}

/**
 * An agent's settings over the instance's: its own provider replaces the instance's connection entirely (another
 * vendor's key or URL would be wrong for it); with no provider of its own, only its model id applies.
 */
export function agentSettings(instance: ModelSettings, agent: { provider?: AiProvider | null; model?: string | null; baseUrl?: string | null; apiKey?: string | null }): ModelSettings {
  if (agent.provider && agent.provider !== instance.provider) {
    return { provider: agent.provider, model: agent.model ?? null, baseUrl: agent.baseUrl ?? null, apiKey: agent.apiKey ?? null };
  }
  return {
    provider: instance.provider,
    model: agent.model ?? instance.model,
    baseUrl: agent.baseUrl ?? instance.baseUrl,
    apiKey: agent.apiKey ?? instance.apiKey,
  };
}

const DEFAULT_MODELS: Record<AiProvider, string | null> = {
  offline: OFFLINE_MODEL_ID,
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  // A local server's models have no common name: it must be given.
  'openai-compatible': null,
};

/** What is missing for these settings to make a model, or null when they can. */
export function settingsProblem(s: ModelSettings): AiConfigError | null {
  if (s.provider === 'offline') return null;
  if (s.provider === 'openai-compatible') {
    if (!s.baseUrl) return new AiConfigError('base_url', 'The openai-compatible provider needs a base URL (e.g. http://localhost:11434/v1 for Ollama).');
    if (!s.model) return new AiConfigError('model', 'The openai-compatible provider needs a model name (the one your server serves).');
    return null;
  }
  if (!s.apiKey) return new AiConfigError('api_key', `The ${s.provider} provider needs an API key (OPSBASE_AI_API_KEY, or the agent's own).`);
  return null;
}

/** The model for these settings; throws AiConfigError when they are incomplete. */
export function languageModel(s: ModelSettings): LanguageModelV4 {
  const problem = settingsProblem(s);
  if (problem) throw problem;
  const model = s.model ?? DEFAULT_MODELS[s.provider] ?? '';
  const baseURL = s.baseUrl ?? undefined;
  const apiKey = s.apiKey ?? undefined;
  const fetch = s.fetch;
  switch (s.provider) {
    case 'offline':
      return new OfflineModel(s.model ?? OFFLINE_MODEL_ID);
    case 'openai':
      // Chat Completions: the protocol every OpenAI-compatible server speaks too, so one wire format is tested.
      return createOpenAI({ apiKey, baseURL, fetch }).chat(model);
    case 'anthropic':
      return createAnthropic({ apiKey, baseURL, fetch })(model);
    case 'openai-compatible':
      // includeUsage: streamed responses report token usage too (usage is recorded, never estimated).
      return createOpenAICompatible({ name: 'openai-compatible', baseURL: baseURL as string, apiKey, includeUsage: true, fetch }).chatModel(model);
  }
}
