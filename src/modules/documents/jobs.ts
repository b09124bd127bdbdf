// Documents' background work: drafting a summary for a document that has none of its author's (summary.ts).
import { defineJob } from '../../jobs/define.ts';
import { draftSummary } from './summary.ts';

export const draftSummaryJob = defineJob<{ document_id: string; revision: number }>({
  type: 'documents.draft_summary',
  timeout: 120,
  max_attempts: 3,
  backoff: 30,
  handler: ({ services, payload, signal }) => draftSummary(services, payload.document_id, payload.revision, signal),
});

export const documentJobs = [draftSummaryJob];
