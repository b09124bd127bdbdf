// The integrations Opsbase knows (issue 12, Orkosi /integrations): what each one needs. Secret fields go to the
// vault as credentials named `<kind>.<field>`; the rest is stored plainly. Every URL a connection test calls is a
// field with the vendor's address as default, so a self-hosted service (or a test's local fake) can stand in.

export type FieldType = 'string' | 'url' | 'integer' | 'boolean';

export interface FieldSpec {
  name: string;
  label: string;
  type: FieldType;
  secret?: boolean;
  required?: boolean;
  default?: string | number | boolean;
  description?: string;
}

export interface IntegrationSpec {
  kind: string;
  name: string;
  category: 'email' | 'messaging' | 'payments' | 'ads' | 'ai' | 'storage';
  description: string;
  fields: FieldSpec[];
  /** One of these fields must be set (Slack: a webhook URL or a bot token). */
  oneOf?: string[];
}

export const CATALOGUE: IntegrationSpec[] = [
  {
    kind: 'smtp',
    name: 'SMTP',
    category: 'email',
    description: 'Outgoing email through your mail server',
    fields: [
      { name: 'host', label: 'Host', type: 'string', required: true },
      { name: 'port', label: 'Port', type: 'integer', default: 587 },
      { name: 'secure', label: 'TLS from the start (port 465)', type: 'boolean', default: false },
      { name: 'username', label: 'Username', type: 'string' },
      { name: 'password', label: 'Password', type: 'string', secret: true },
      { name: 'from', label: 'From address', type: 'string', description: 'e.g. Ops <ops@example.com>' },
    ],
  },
  {
    kind: 'slack',
    name: 'Slack',
    category: 'messaging',
    description: 'Messages to a Slack channel (incoming webhook) or through a bot token',
    oneOf: ['webhook_url', 'bot_token'],
    fields: [
      { name: 'webhook_url', label: 'Incoming webhook URL', type: 'url', secret: true },
      { name: 'bot_token', label: 'Bot token (xoxb-…)', type: 'string', secret: true },
      { name: 'api_base_url', label: 'API base URL', type: 'url', default: 'https://slack.com/api' },
    ],
  },
  {
    kind: 'stripe',
    name: 'Stripe',
    category: 'payments',
    description: 'Payments and balances',
    fields: [
      { name: 'secret_key', label: 'Secret key (sk_…)', type: 'string', secret: true, required: true },
      { name: 'api_base_url', label: 'API base URL', type: 'url', default: 'https://api.stripe.com' },
    ],
  },
  {
    kind: 'meta',
    name: 'Meta',
    category: 'ads',
    description: 'Facebook and Instagram ad accounts (Graph API)',
    fields: [
      { name: 'access_token', label: 'Access token', type: 'string', secret: true, required: true },
      { name: 'ad_account_id', label: 'Ad account id (act_…)', type: 'string' },
      { name: 'graph_base_url', label: 'Graph API base URL', type: 'url', default: 'https://graph.facebook.com/v21.0' },
    ],
  },
  {
    kind: 'openai',
    name: 'OpenAI',
    category: 'ai',
    description: 'OpenAI models for agents',
    fields: [
      { name: 'api_key', label: 'API key', type: 'string', secret: true, required: true },
      { name: 'base_url', label: 'Base URL', type: 'url', default: 'https://api.openai.com/v1' },
    ],
  },
  {
    kind: 'anthropic',
    name: 'Anthropic',
    category: 'ai',
    description: 'Claude models for agents',
    fields: [
      { name: 'api_key', label: 'API key', type: 'string', secret: true, required: true },
      { name: 'base_url', label: 'Base URL', type: 'url', default: 'https://api.anthropic.com/v1' },
    ],
  },
  {
    kind: 'openai_compatible',
    name: 'OpenAI-compatible',
    category: 'ai',
    description: 'Any server speaking the OpenAI API: Ollama, vLLM, llama.cpp, LM Studio',
    fields: [
      { name: 'base_url', label: 'Base URL', type: 'url', required: true, description: 'e.g. http://localhost:11434/v1' },
      { name: 'api_key', label: 'API key (if the server wants one)', type: 'string', secret: true },
      { name: 'model', label: 'Default model', type: 'string' },
    ],
  },
  {
    kind: 's3',
    name: 'S3-compatible storage',
    category: 'storage',
    description: 'A bucket on AWS S3, MinIO, Cloudflare R2, Backblaze B2…',
    fields: [
      { name: 'endpoint', label: 'Endpoint', type: 'url', default: 'https://s3.amazonaws.com' },
      { name: 'region', label: 'Region', type: 'string', default: 'us-east-1' },
      { name: 'bucket', label: 'Bucket', type: 'string', required: true },
      { name: 'access_key_id', label: 'Access key id', type: 'string', required: true },
      { name: 'secret_access_key', label: 'Secret access key', type: 'string', secret: true, required: true },
    ],
  },
];

export const INTEGRATION_KINDS = CATALOGUE.map((s) => s.kind) as [string, ...string[]];

export function specOf(kind: string): IntegrationSpec | undefined {
  return CATALOGUE.find((s) => s.kind === kind);
}

/** The vault name of an integration's secret field. */
export const secretName = (kind: string, field: string) => `${kind}.${field}`;
