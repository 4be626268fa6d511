import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** public/ beside src/ and dist/ alike. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The dashboard's files, read once at start and served from memory. They are public: the
 * dashboard signs in against /v1 itself, where every call needs the account's credentials.
 */
export function registerDashboard(app: FastifyInstance, dir = PUBLIC_DIR): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
    const paths = name === 'index.html' ? ['/', '/index.html'] : [`/${name}`];
    for (const path of paths) {
      app.get(path, async (req, reply) => {
        reply
          .header('ETag', etag)
          .header('Cache-Control', 'no-cache')
          .header('X-Content-Type-Options', 'nosniff');
        if (req.headers['if-none-match'] === etag) return reply.code(304).send();
        return reply.type(type).send(body);
      });
    }
  }
}
