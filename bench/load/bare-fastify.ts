/**
 * The floor for `GET batch status`: the same Fastify version with one trivial JSON route and nothing else (no
 * auth, no database, no logging, like the service under the bench's LOG_LEVEL=warn). Run by bench/load.ts in its
 * own process, as the service runs in its own, and loaded with the same autocannon settings.
 *
 *   PORT=3000 node --import tsx bench/load/bare-fastify.ts
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ ok: true }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
