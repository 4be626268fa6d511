/**
 * The ceiling: a bare Fastify server that answers with bytes captured from Roster, from
 * memory, with no auth and no store. What Roster is measured against.
 *
 *   node --import tsx bench/ceiling.ts responses.json
 *
 * responses.json maps "GET /path?query" (or "POST" for every POST) to `{ text, headers }`:
 * Roster's body and response headers, so that the ceiling puts the same bytes on the wire.
 */
import Fastify, { type FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: ceiling.ts responses.json');
const responses = new Map<string, { body: Buffer; headers: Record<string, string> }>(
  Object.entries(
    JSON.parse(readFileSync(file, 'utf8')) as Record<
      string,
      { text: string; headers: Record<string, string> }
    >,
  ).map(([k, v]) => [k, { body: Buffer.from(v.text), headers: v.headers }]),
);

const app = Fastify({ logger: false });
// Read the form body like Roster does, and drop it.
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) =>
  done(null, body),
);
const send = (key: string, reply: FastifyReply) => {
  const captured = responses.get(key);
  if (!captured) throw new Error(`No captured response for ${key}`);
  return reply.headers(captured.headers).send(captured.body);
};
app.get('/*', async (req, reply) => send(`GET ${req.url}`, reply));
app.post('/*', async (_req, reply) => send('POST', reply));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`Ceiling listening at ${address}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
