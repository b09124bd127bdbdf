// Drafting a document's summary with the instance's model (src/ai: the offline model unless OPSBASE_AI_* says
// otherwise), in a background job: a model call never runs inside a request. The summary is stored on the revision
// it was drafted from and makes no revision; when the document has moved on (a newer revision, or its author wrote
// a summary) the draft is dropped: the job of the newer revision drafts again. Each draft is one of the org's
// `ai_calls` for the month.
import { and, eq, isNull, or } from 'drizzle-orm';
import { runModelLoop } from '../../ai/loop.ts';
import { AiConfigError, instanceSettings, languageModel } from '../../ai/provider.ts';
import { systemCtx } from '../../core/context.ts';
import type { AppServices } from '../../core/services.ts';
import { documents } from '../../db/schema/documents.ts';
import { PermanentJobError } from '../../jobs/define.ts';
import { consume } from '../quota/service.ts';

const MAX_INPUT_CHARS = 20_000;
export const MAX_SUMMARY_CHARS = 500;

const SYSTEM =
  'You summarise internal documents of a business for a list view. Answer with one or two plain sentences (no ' +
  'heading, no list, no markdown) saying what the document is and what it decides or describes.';

/**
 * The model's answer as a summary: its first paragraph, without a leading `Summary:` label (models, and the offline
 * one, often add it), markdown emphasis and heading marks dropped, cut at MAX_SUMMARY_CHARS on a word.
 */
export function summaryFrom(answer: string): string {
  const paragraph = answer.trim().split(/\n\s*\n/)[0] ?? '';
  let text = paragraph
    .replace(/\*+|`+|\b__|__\b/g, '')
    .replace(/^\s*(tl;dr|summary)\s*:\s*/i, '')
    .replace(/^\s*#+\s*/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length > MAX_SUMMARY_CHARS) text = `${text.slice(0, MAX_SUMMARY_CHARS).replace(/\s+\S*$/, '')}…`;
  return text;
}

export async function draftSummary(services: AppServices, documentId: string, revision: number, signal: AbortSignal) {
  const db = services.database.db;
  const [doc] = await db.select().from(documents).where(eq(documents.id, documentId));
  if (!doc || doc.revision !== revision || doc.summarySource === 'author') return { skipped: true, reason: doc ? 'superseded' : 'deleted' };
  let model: ReturnType<typeof languageModel>;
  try {
    model = languageModel(instanceSettings(services.config));
  } catch (err) {
    // Retrying cannot make a missing key appear.
    if (err instanceof AiConfigError) throw new PermanentJobError(err.message);
    throw err;
  }
  // A drafted summary is one of the org's monthly `ai_calls`: counted once there is a model to call (a misconfigured
  // instance uses up nothing), once per revision (a retried job counts nothing more), and not drafted past the quota —
  // the document simply keeps no summary.
  const counted = await db.transaction((tx) =>
    consume(systemCtx(services, tx, doc.orgId), { resource: 'ai_calls', amount: 1, idempotency_key: `documents.summary:${documentId}:${revision}` }),
  );
  if (!counted.allowed) return { skipped: true, reason: 'ai_calls quota' };
  // The content first, the title after it: a model that leans on the opening (the offline one takes its first
  // sentence) then summarises what the document says rather than repeating its title.
  const body = doc.contentMd.trim() ? doc.contentMd.slice(0, MAX_INPUT_CHARS) : doc.title;
  const out = await runModelLoop({
    model,
    system: SYSTEM,
    prompt: `${body}\n\n(The document is titled "${doc.title}".)`,
    maxSteps: 1,
    maxOutputTokens: 200,
    temperature: 0.2,
    timeoutMs: 60_000,
    signal,
  });
  const summary = summaryFrom(out.text);
  if (!summary) return { skipped: true, reason: 'empty answer' };
  const stored = await db
    .update(documents)
    .set({ summary, summarySource: 'ai' })
    .where(and(eq(documents.id, documentId), eq(documents.revision, revision), or(isNull(documents.summarySource), eq(documents.summarySource, 'ai'))))
    .returning({ id: documents.id });
  return { stored: stored.length > 0, model: model.modelId, usage: out.usage };
}
