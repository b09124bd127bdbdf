// A process that dies between reserve and commit (ledger test): reserves a hold with a short TTL, prints its id,
// then waits forever, until the test kills it with SIGKILL. Usage: node reserve-and-hang.ts <database url> <org id>
import { connect } from '../../src/db/client.ts';
import { reserve } from '../../src/modules/billing/holds.ts';

const [url, orgId, ttl = '1'] = process.argv.slice(2);
const database = connect(url, { max: 1 });
const { hold } = await reserve(database.db, {
  orgId,
  amount: 3,
  operation: 'test.crash',
  idempotencyKey: `crash:${process.pid}:${Date.now()}`,
  ttlSeconds: Number(ttl),
});
process.stdout.write(`${hold.id}\n`);
// Keep the connection open, as a real process mid-action would.
setInterval(() => {}, 1 << 30);
