import type { FastifyInstance, FastifyRequest } from 'fastify';

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const ALLOW_HEADERS =
  'Accept, Authorization, Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since, Last-Event-ID, Idempotency-Key';
const EXPOSE_HEADERS = 'ETag, Retry-After, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Config';

type HeaderSet = Readonly<Record<string, string>>;

/**
 * Which browser origins may do what. Any page may read with a token it holds (`*`, which browsers
 * never combine with credentials they keep themselves: cached Basic auth, cookies). Only the
 * server's own origin and the trusted ones (ROSTER_CORS_ORIGINS) may write from a browser, and only
 * the trusted ones get `Access-Control-Allow-Credentials`.
 */
export class CorsPolicy {
  private readonly trusted: Map<string, HeaderSet>;
  /** The headers of a request without Origin, or from an origin not trusted: computed once. */
  readonly anyOrigin: HeaderSet;
  private readonly ownOrigin: string;

  constructor(publicUrl: string, trustedOrigins: readonly string[] = []) {
    this.ownOrigin = new URL(publicUrl).origin;
    this.anyOrigin = {
      'access-control-allow-origin': '*',
      // With trusted origins, answers depend on Origin: caches must keep them apart.
      ...(trustedOrigins.length > 0 ? { vary: 'Origin' } : {}),
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-expose-headers': EXPOSE_HEADERS,
    };
    this.trusted = new Map(
      trustedOrigins.map((origin) => [
        origin,
        {
          'access-control-allow-origin': origin,
          vary: 'Origin',
          'access-control-allow-methods': ALLOW_METHODS,
          'access-control-allow-headers': ALLOW_HEADERS,
          'access-control-allow-credentials': 'true',
          'access-control-expose-headers': EXPOSE_HEADERS,
        },
      ]),
    );
  }

  headersFor(origin: string | undefined): HeaderSet {
    return (origin !== undefined && this.trusted.get(origin)) || this.anyOrigin;
  }

  /**
   * Whether a request may change state: no Origin (not a browser, or a same-origin GET), the
   * server's own origin (the dashboard, however it is reached) or a trusted one. A page elsewhere
   * could otherwise post a form that rides on credentials the browser keeps.
   */
  mayWrite(req: FastifyRequest): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || this.trusted.has(origin) || origin === this.ownOrigin) return true;
    const host = req.headers.host;
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  }
}

export function registerPreflight(app: FastifyInstance): void {
  // Preflight needs no credentials: browsers never send them on OPTIONS.
  app.options('/*', (_req, reply) => {
    void reply.header('Access-Control-Max-Age', '600').code(204).send();
  });
}
