// The designed pages, in sidebar order, and the operations each one covers: those operations still have their
// generic page (/ops/<id>), but the palette and the operations index point people to the designed one first.
export interface NavItem {
  path: string;
  label: string;
  keywords: string;
  /** Operation ids (or `prefix.*`) this page is the designed face of. */
  covers: string[];
  /** Shown in the sidebar to instance admins only (the page itself says so to anyone else). */
  adminOnly?: boolean;
}

export const NAV: NavItem[] = [
  { path: '/', label: 'Overview', keywords: 'home dashboard credits usage', covers: ['whoami', 'billing.plan_summary'] },
  { path: '/search', label: 'Search', keywords: 'find documents files records everything', covers: ['search.*'] },
  { path: '/tasks', label: 'Tasks', keywords: 'board issues work todo kanban', covers: ['tasks.*'] },
  { path: '/agents', label: 'Agents', keywords: 'ai workforce org chart bots budget', covers: ['agents.*'] },
  { path: '/documents', label: 'Documents', keywords: 'docs folders policies wiki knowledge revisions markdown', covers: ['documents.*', 'folders.*'] },
  { path: '/files', label: 'Files', keywords: 'upload documents pdf contracts attachments download', covers: ['files.*'] },
  { path: '/records', label: 'Records', keywords: 'workspace deals invoices crm products', covers: ['records.*'] },
  { path: '/keys', label: 'API keys', keywords: 'tokens secrets credentials', covers: ['keys.*'] },
  { path: '/members', label: 'Members', keywords: 'team users invites roles owner', covers: ['orgs.members.*', 'orgs.invites.create', 'orgs.invites.list'] },
  { path: '/teams', label: 'Teams', keywords: 'groups people members invite', covers: ['teams.*'] },
  { path: '/vault', label: 'Vault', keywords: 'credentials secrets passwords api keys encrypted', covers: ['credentials.*'] },
  {
    path: '/integrations',
    label: 'Integrations',
    keywords: 'smtp slack stripe meta openai anthropic s3 connections',
    covers: ['integrations.*'],
  },
  {
    path: '/billing',
    label: 'Billing',
    keywords: 'credits wallet plan ledger top-up quota',
    covers: ['wallet.get', 'tokens.*', 'billing.get', 'billing.tiers', 'billing.validate_downgrade', 'billing.change_plan', 'billing.checkout', 'billing.auto_topup.*', 'quota.status'],
  },
  { path: '/webhooks', label: 'Webhooks', keywords: 'endpoints deliveries events', covers: ['webhooks.*', 'webhook_deliveries.replay', 'dev.webhook_deliveries'] },
  { path: '/queue', label: 'Queue & workers', keywords: 'jobs schedules fleet workers', covers: ['queue.jobs.list', 'queue.jobs.get', 'queue.stats', 'queue.retry', 'queue.cancel', 'queue.schedules.*', 'workers.*'] },
  { path: '/notifications', label: 'Notifications', keywords: 'inbox alerts unread', covers: ['notifications.*'] },
  {
    path: '/backups',
    label: 'Backups',
    keywords: 'restore snapshot archive download offsite s3 export',
    covers: ['backups.*'],
    adminOnly: true,
  },
  { path: '/activity', label: 'Activity log', keywords: 'audit history', covers: ['activity.list'] },
  { path: '/settings', label: 'Settings', keywords: 'org name slug avatar account password sessions', covers: ['orgs.get', 'orgs.update', 'users.delete_me', 'orgs.export'] },
  { path: '/ops', label: 'All operations', keywords: 'api generic every operation', covers: [] },
];

export function designedPageFor(opId: string): NavItem | undefined {
  return NAV.find((n) => n.covers.some((c) => (c.endsWith('.*') ? opId.startsWith(c.slice(0, -1)) : c === opId)));
}
