// Every environment variable Opsbase reads, validated once (DESIGN §8). Nothing else reads process.env.
import { resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

function validCron(v: string): boolean {
  if (v === 'off') return true;
  try {
    CronExpressionParser.parse(v);
    return v.split(/\s+/).length >= 5;
  } catch {
    return false;
  }
}

const days = (fallback: number) => z.coerce.number().int().min(1).max(36_500).default(fallback);

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
  /** Allow agents of the `process` runtime (they run a command on the worker's host): off unless the operator opts in. */
  OPSBASE_ALLOW_PROCESS_AGENTS: bool,
  /** `smtp://user:pass@host:587` (or `smtps://…:465`): the worker sends the email outbox through it. Unset: mail waits in the outbox. */
  OPSBASE_SMTP_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
  /** The From of outgoing mail, e.g. `Opsbase <ops@example.com>`. */
  OPSBASE_MAIL_FROM: z.string().min(3).default('Opsbase <opsbase@localhost>'),
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
  /** Requests with an unknown, expired or malformed credential allowed per client IP and minute; then 429. */
  OPSBASE_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().positive().default(30),
  OPSBASE_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** The largest file `files.create` accepts (bytes, before base64); its request body may be a third larger. */
  OPSBASE_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(25 * 1024 * 1024),
  // Retention (days) of what the maintenance job prunes; see docs/retention.md.
  OPSBASE_RETENTION_API_REQUESTS_DAYS: days(30),
  OPSBASE_RETENTION_EVENTS_DAYS: days(90),
  OPSBASE_RETENTION_NOTIFICATIONS_DAYS: days(90),
  OPSBASE_RETENTION_EMAILS_DAYS: days(30),
  OPSBASE_RETENTION_QUOTA_CONSUMPTIONS_DAYS: days(30),
  OPSBASE_RETENTION_WEBHOOK_DELIVERIES_DAYS: days(30),
  OPSBASE_RETENTION_JOBS_DAYS: days(7),
  OPSBASE_RETENTION_FAILED_JOBS_DAYS: days(30),
  /** When the scheduled backup runs (cron, UTC); `off` disables it. See docs/backups.md. */
  OPSBASE_BACKUP_CRON: z
    .string()
    .trim()
    .default('0 3 * * *')
    .refine(validCron, 'a cron expression (5 fields, or 6 with seconds, UTC) or `off`'),
  /** How many succeeded backups to keep; older ones (and older failed ones) are deleted after each backup. */
  OPSBASE_BACKUP_KEEP: z.coerce.number().int().min(1).max(10_000).default(7),
  /** `auto`: pg_dump when one of the server's major version is on the PATH, else the built-in format. */
  OPSBASE_BACKUP_FORMAT: z.enum(['auto', 'builtin', 'pg_dump']).default('auto'),
  /** Largest file an upload operation (orgs.import) accepts, in bytes. */
  OPSBASE_UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(512 * 1024 * 1024),
  // An S3-compatible object store (AWS S3, MinIO, R2 …), used for file blobs (and backups' offsite copies) when the
  // endpoint, bucket and both keys are set; see src/core/s3.ts. Unset: blobs live in the data dir.
  OPSBASE_S3_ENDPOINT: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional()),
  OPSBASE_S3_BUCKET: z.string().optional(),
  OPSBASE_S3_ACCESS_KEY_ID: z.string().optional(),
  OPSBASE_S3_SECRET_ACCESS_KEY: z.string().optional(),
  OPSBASE_S3_REGION: z.string().min(1).default('us-east-1'),
  /** `<endpoint>/<bucket>/<key>` (default: every S3-compatible server speaks it); false: `<bucket>.<endpoint host>/<key>`. */
  OPSBASE_S3_PATH_STYLE: z
    .enum(['true', 'false', '1', '0', ''])
    .optional()
    .transform((v) => v !== 'false' && v !== '0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` (one object per line) or `pretty` (short lines for people); unset: pretty when stdout is a terminal. */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  // The CLI's own variables (OPSBASE_API_URL, OPSBASE_API_KEY, XDG_CONFIG_HOME) are read by src/cli/env.ts: the
  // CLI does not load this schema (zod alone would cost a third of its start-up).
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
