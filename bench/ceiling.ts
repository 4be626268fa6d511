/**
 * The ceiling: a bare Fastify server that answers with bytes captured from Roster, from
 * memory, with no auth and no store. What Roster is measured against.
 *
 *   node --import tsx bench/ceiling.ts responses.json
 *
 * responses.json maps "GET /path?query" (or "POST" for every POST) to a JSON body.
 */
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: ceiling.ts responses.json');
const responses = new Map<string, Buffer>(
  Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>).map(([k, v]) => [
    k,
    Buffer.from(v),
  ]),
);

const app = Fastify({ logger: false });
// Read the form body like Roster does, and drop it.
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) =>
  done(null, body),
);
const send = (key: string) => {
  const body = responses.get(key);
  if (!body) throw new Error(`No captured response for ${key}`);
  return body;
};
app.get('/*', async (req, reply) =>
  reply.type('application/json; charset=utf-8').send(send(`GET ${req.url}`)),
);
app.post('/*', async (_req, reply) => reply.type('application/json; charset=utf-8').send(send('POST')));

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`Ceiling listening at ${address}\n`);
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
