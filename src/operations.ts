// The registry: every operation of every module, in one list. Routes, OpenAPI, CLI commands and MCP tools are
// all derived from it.
import type { Operation } from './core/operation.ts';
import { activityOperations } from './modules/activity/operations.ts';
import { backupOperations, orgArchiveOperations } from './modules/backups/operations.ts';
import { agentOperations } from './modules/agents/operations.ts';
import { authOperations } from './modules/auth/operations.ts';
import { catalogOperations } from './modules/billing/catalog-operations.ts';
import { paymentOperations } from './modules/billing/payment-operations.ts';
import { planOperations } from './modules/billing/plan-operations.ts';
import { walletOperations } from './modules/billing/wallet-operations.ts';
import { dashboardOperations } from './modules/dashboard/operations.ts';
import { devOperations } from './modules/dev/operations.ts';
import { documentOperations } from './modules/documents/operations.ts';
import { eventOperations } from './modules/events/operations.ts';
import { fileOperations } from './modules/files/operations.ts';
import { healthOperations } from './modules/health/operations.ts';
import { keyOperations } from './modules/keys/operations.ts';
import { notificationOperations } from './modules/notifications/operations.ts';
import { orgOperations } from './modules/orgs/operations.ts';
import { queueOperations } from './modules/queue/operations.ts';
import { quotaOperations } from './modules/quota/operations.ts';
import { recordOperations } from './modules/records/operations.ts';
import { ruleOperations } from './modules/rules/operations.ts';
import { templateOperations } from './modules/templates/operations.ts';
import { runOperations } from './modules/runs/operations.ts';
import { searchOperations } from './modules/search/operations.ts';
import { taskOperations } from './modules/tasks/operations.ts';
import { whoami } from './modules/orgs/whoami.ts';
import { userOperations } from './modules/users/operations.ts';
import { webhookOperations } from './modules/webhooks/operations.ts';
import { workerOperations } from './modules/workers/operations.ts';
import { teamOperations } from './modules/teams/operations.ts';
import { credentialOperations } from './modules/credentials/operations.ts';
import { integrationOperations } from './modules/integrations/operations.ts';

export const operations: Operation[] = [
  ...healthOperations,
  ...authOperations,
  ...userOperations,
  ...orgOperations,
  ...orgArchiveOperations,
  whoami,
  ...keyOperations,
  ...activityOperations,
  ...devOperations,
  ...walletOperations,
  ...planOperations,
  ...catalogOperations,
  ...paymentOperations,
  ...quotaOperations,
  ...queueOperations,
  ...workerOperations,
  ...eventOperations,
  ...notificationOperations,
  ...webhookOperations,
  ...templateOperations,
  ...agentOperations,
  ...ruleOperations,
  ...fileOperations,
  ...recordOperations,
  ...dashboardOperations,
  ...documentOperations,
  ...searchOperations,
  ...teamOperations,
  ...credentialOperations,
  ...integrationOperations,
  ...backupOperations,
  // Runs before tasks: registry-walking tests act on one task, and tasks.delete (last of the tasks) removes it.
  ...runOperations,
  ...taskOperations,
] as unknown as Operation[];

export function findOperation(id: string): Operation | undefined {
  return operations.find((op) => op.id === id);
}
