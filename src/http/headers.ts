import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const ALLOW_HEADERS =
  'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Last-Event-ID, Idempotency-Key';
const EXPOSE_HEADERS = 'ETag, Retry-After, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Config';

/**
 * CORS on every response. With credentials allowed, browsers refuse `*`, so a request's
 * Origin is echoed back (and caches told so with Vary).
 */
export function corsHeaders(origin: string | undefined): [string, string][] {
  return [
    ['Access-Control-Allow-Origin', origin ?? '*'],
    ...(origin ? [['Vary', 'Origin'] as [string, string]] : []),
    ['Access-Control-Allow-Methods', ALLOW_METHODS],
    ['Access-Control-Allow-Headers', ALLOW_HEADERS],
    ['Access-Control-Allow-Credentials', 'true'],
    ['Access-Control-Expose-Headers', EXPOSE_HEADERS],
  ];
}

/** The headers of a request without Origin, computed once. */
export const CORS_HEADERS_ANY_ORIGIN = corsHeaders(undefined);

function setCors(req: FastifyRequest, reply: FastifyReply): void {
  const origin = req.headers.origin;
  for (const [name, value] of origin ? corsHeaders(origin) : CORS_HEADERS_ANY_ORIGIN)
    reply.header(name, value);
}

export function registerHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    setCors(req, reply);
  });
  // Preflight needs no credentials: browsers never send them on OPTIONS.
  app.options('/*', async (_req, reply) => reply.header('Access-Control-Max-Age', '600').code(204).send());
}
