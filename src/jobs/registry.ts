// Every module's declared jobs (their `jobs.ts`), as operations.ts lists every operation: the worker runs these.
import { agentJobs } from '../modules/agents/jobs.ts';
import { backupJobs } from '../modules/backups/jobs.ts';
import { billingJobs } from '../modules/billing/jobs.ts';
import { fileJobs } from '../modules/files/jobs.ts';
import { documentJobs } from '../modules/documents/jobs.ts';
import { mailJobs } from '../modules/notifications/jobs.ts';
import { runJobs } from '../modules/runs/jobs.ts';
import type { JobDefinition } from './define.ts';
import { maintenanceJob } from './maintenance.ts';

export const allJobs: JobDefinition[] = [maintenanceJob, ...billingJobs, ...mailJobs, ...runJobs, ...agentJobs, ...fileJobs, ...backupJobs, ...documentJobs];
