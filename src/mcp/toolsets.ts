// Toolsets, as GitHub's MCP server has them: the tools grouped by domain (an operation id's first segment, some
// merged), so an agent sees the few dozen tools its work needs instead of every operation of the registry. Chosen
// with `opsbase mcp --toolsets a,b` or `POST /mcp?toolsets=a,b` (`all`, `default`); `context` is always on, and
// one discovery tool (`list_toolsets`) tells the agent what else exists and how to ask for it.

export interface ToolsetInfo {
  description: string;
  /** Operation id first segments that belong to it. */
  domains: string[];
}

/**
 * Every toolset with its domains. A domain missing here becomes a toolset of its own, named after it;
 * test/manifest.test.ts fails until it is listed, so each toolset says in words what it holds.
 */
export const TOOLSETS: Record<string, ToolsetInfo> = {
  context: {
    description: 'Who and where you are: the credential, its user and org; server health and version',
    domains: ['whoami', 'auth', 'health'],
  },
  tasks: { description: 'Tasks: create, assign to people or agents, run them and follow their runs', domains: ['tasks', 'runs'] },
  agents: { description: 'AI agents: their models, tools, budgets and runs; agent templates and rules', domains: ['agents', 'templates', 'rules'] },
  pilots: { description: 'Pilots: automations that run steps on triggers and schedules', domains: ['pilots'] },
  documents: { description: 'Documents in folders (with revisions and diffs) and files', domains: ['documents', 'folders', 'files'] },
  records: { description: "Workspace records: other products' objects (deals, invoices …) published into the org by idempotent upsert", domains: ['records'] },
  search: { description: 'Full-text search across the org', domains: ['search'] },
  notifications: { description: 'Notifications for the caller and the org: list, create, mark read', domains: ['notifications'] },
  activity: { description: "The org's activity log and its recent API requests", domains: ['activity', 'dev', 'logs'] },
  queue: { description: 'The job queue (submit, claim, complete, schedules, stats) and the worker fleet', domains: ['queue', 'workers'] },
  growth: {
    description: 'Leads, landing pages, ad creatives and campaigns, discovery runs, products and the changelog',
    domains: ['leads', 'landing', 'creatives', 'meta', 'discovery', 'products', 'changelog'],
  },
  events: { description: 'Domain events and the webhooks that deliver them', domains: ['events', 'webhooks', 'webhook_deliveries'] },
  orgs: { description: 'Orgs, their members, invites and teams; users of the instance', domains: ['orgs', 'users', 'teams'] },
  keys: { description: 'API keys of the org: create, rotate, roll, revoke; and stored credentials', domains: ['keys', 'credentials'] },
  billing: {
    description: 'Wallet, credits, tokens, plans, payments, auto top-up and quotas',
    domains: ['billing', 'wallet', 'tokens', 'quota', 'quotas'],
  },
  admin: { description: 'Instance administration: integrations, backups, dashboard figures', domains: ['integrations', 'backups', 'dashboard'] },
};

/** What an agent doing the org's work needs; administration (keys, billing, orgs, webhooks) is asked for. */
export const DEFAULT_TOOLSETS = ['context', 'tasks', 'agents', 'pilots', 'documents', 'records', 'search', 'notifications', 'activity', 'queue'];

/** Always on, whatever is selected: an agent must be able to tell who it acts as. */
export const ALWAYS_ON = 'context';

const BY_DOMAIN = new Map(Object.entries(TOOLSETS).flatMap(([name, t]) => t.domains.map((d) => [d, name] as const)));

/** The toolset of an operation id: its domain's, else one named after the domain. */
export const toolsetOf = (id: string): string => {
  const domain = id.split('.')[0];
  return BY_DOMAIN.get(domain) ?? domain;
};

export const describeToolset = (name: string): string => TOOLSETS[name]?.description ?? `Operations of ${name}`;

/** An unknown toolset name: a usage error for `opsbase mcp`, a 400 for POST /mcp. */
export class UnknownToolset extends Error {}

/**
 * The toolsets a selection names: undefined or empty → the default set; `all`; `default` may be combined with
 * others (`default,billing`). `available` is every toolset the server has tools in.
 */
export function selectToolsets(selection: string | undefined, available: readonly string[]): Set<string> {
  const names = (selection ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('all')) return new Set(available);
  const unknown = names.filter((n) => n !== 'default' && !available.includes(n));
  if (unknown.length) {
    throw new UnknownToolset(
      `Unknown toolset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: choose from ${['all', 'default', ...available].join(', ')}.`,
    );
  }
  const chosen = new Set(names.length === 0 || names.includes('default') ? DEFAULT_TOOLSETS : []);
  for (const n of names) if (n !== 'default') chosen.add(n);
  chosen.add(ALWAYS_ON);
  return new Set(available.filter((n) => chosen.has(n)));
}
