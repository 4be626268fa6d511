import type { FastifyInstance } from 'fastify';
import { isAscii } from 'node:buffer';
import { InvalidParameterError } from '../domain/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One form component: '+' is a space; malformed escapes and invalid UTF-8 are refused. */
function decodeComponent(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s; // nothing to decode: SIDs, plain names
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InvalidParameterError(
      'body',
      'The request body is not valid form encoding (bad escape or invalid UTF-8)',
    );
  }
}

/** application/x-www-form-urlencoded into a plain object; repeated names become arrays. */
export function parseForm(body: Buffer): Record<string, string | string[]> {
  let text: string;
  if (isAscii(body)) {
    text = body.toString('latin1'); // ASCII is valid UTF-8; latin1 decodes it without checking again
  } else {
    try {
      text = utf8.decode(body);
    } catch {
      throw new InvalidParameterError('body', 'The request body is not valid UTF-8');
    }
  }
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (text === '') return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** Form bodies as Twilio sends them, and JSON objects for people who prefer them. */
export function registerBodyParsers(app: FastifyInstance): void {
  // Plain text means nothing to this API: it gets a 415 like any other unknown type.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseForm(body as Buffer));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
