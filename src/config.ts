// Every environment variable Opsbase reads, validated once (DESIGN §8). Nothing else reads process.env.
import { resolve } from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  OPSBASE_DATA_DIR: z.string().default('./.opsbase'),
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  OPSBASE_MASTER_KEY: z.string().optional(),
  OPSBASE_PUBLIC_URL: z.string().url().optional(),
  OPSBASE_AI_PROVIDER: z.enum(['offline', 'openai', 'anthropic', 'openai-compatible']).default('offline'),
  OPSBASE_AI_BASE_URL: z.string().url().optional(),
  OPSBASE_AI_API_KEY: z.string().optional(),
  OPSBASE_AI_MODEL: z.string().optional(),
  OPSBASE_SMTP_URL: z.string().optional(),
  OPSBASE_SMTP_INBOUND_PORT: z.coerce.number().int().optional(),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  /** Where the Stripe SDK sends its API calls (a local fake in tests): e.g. http://127.0.0.1:12111. Default: Stripe. */
  OPSBASE_STRIPE_API_BASE: z.string().url().optional(),
  /** Tiers, packs and the signup bonus (JSON); default `<data dir>/billing.json` when present, else the built-in catalog. */
  OPSBASE_BILLING_CONFIG: z.string().optional(),
  OPSBASE_ALLOW_PRIVATE_NETWORK: bool,
  /** Set when a reverse proxy sits in front: then X-Forwarded-For names the client. */
  OPSBASE_TRUST_PROXY: bool,
  OPSBASE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(600),
  OPSBASE_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` (one object per line) or `pretty` (short lines for people); unset: pretty when stdout is a terminal. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  // CLI side
  OPSBASE_API_URL: z.string().url().default('http://localhost:4000'),
  OPSBASE_API_KEY: z.string().optional(),
  XDG_CONFIG_HOME: z.string().optional(),
  HOME: z.string().optional(),
});

export type Config = z.infer<typeof ConfigSchema> & { dataDir: string };

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.OPSBASE_DATA_DIR) };
}

let cached: Config | undefined;
/** The process-wide configuration, read on first use. */
export function config(): Config {
  cached ??= readConfig();
  return cached;
}
