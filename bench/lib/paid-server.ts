// The HTTP side of `npm run bench -- credits`: the real Opsbase app (createApp) on the given database, with one
// extra paid operation (`bench.paid`, cost 1, does nothing else) registered through the same registry. Prints
// `listening <port>` once it accepts connections. Usage: node paid-server.ts <database url>
import { createApp } from '../../src/app.ts';
import { readConfig } from '../../src/config.ts';
import { operations } from '../../src/operations.ts';
import { benchPaid } from './paid-op.ts';

const databaseUrl = process.argv[2];
if (!databaseUrl) throw new Error('usage: paid-server.ts <database url>');
const config = readConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
const app = await createApp({ config, databaseUrl, operations: [...operations, benchPaid] });
await app.server.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.server.address() as { port: number };
process.stdout.write(`listening ${port}\n`);

const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
