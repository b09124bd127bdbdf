// Mail delivery: one `mail.send` job per outbox message, enqueued in the transaction that wrote the message (so it
// exists exactly when the message does), keyed by the message id. The engine retries it with backoff (30 s, 1 min,
// 2 min, 4 min) and the last attempt marks the message failed; see mail.ts for why a message is never sent twice.
import { defineJob } from '../../jobs/define.ts';
import { sendOutboxMessage } from './mail.ts';

export const sendMailJob = defineJob<{ id: string }>({
  type: 'mail.send',
  timeout: 90,
  max_attempts: 5,
  backoff: 30,
  handler: ({ services, payload, job }) => sendOutboxMessage(services, payload.id, job.attempt >= job.maxAttempts),
});

export const mailJobs = [sendMailJob];
