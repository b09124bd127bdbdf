// The baseline of `npm run bench -- http`: a bare Fastify hello-world, no logger, no hooks. Listens on
// 127.0.0.1 on the port given as argv[2] (0: any free port) and prints `listening <port>` once it does.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

const port = Number(process.argv[2] ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : port}\n`);

const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
