import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const ALLOW_HEADERS =
  'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Last-Event-ID, Idempotency-Key';
const EXPOSE_HEADERS = 'ETag, Retry-After, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Config';

/**
 * CORS on every response. With credentials allowed, browsers refuse `*`, so a request's
 * Origin is echoed back (and caches told so with Vary).
 */
function setCors(req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  reply.header('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) reply.header('Vary', 'Origin');
  reply.header('Access-Control-Allow-Methods', ALLOW_METHODS);
  reply.header('Access-Control-Allow-Headers', ALLOW_HEADERS);
  reply.header('Access-Control-Allow-Credentials', 'true');
  reply.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
}

export function registerHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    setCors(req, reply);
  });
  // Preflight needs no credentials: browsers never send them on OPTIONS.
  app.options('/*', async (_req, reply) => reply.header('Access-Control-Max-Age', '600').code(204).send());
}
