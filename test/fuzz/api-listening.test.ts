import { request, Agent } from 'node:http';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { basicAuth } from '../helpers/app.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { fuzzApi, fuzzSettings, type Answer, type FuzzTarget, type Sent } from './fuzz.js';

/**
 * The fuzzer (test/fuzz/fuzz.ts) against a listening server, so that what only a real socket
 * does (Node's parser, timeouts, the 413 drain, errors before a request exists) gets the same
 * requests.
 */
let s: TestServer;
let agent: Agent;
let target: FuzzTarget;

/** Node's HTTP client refuses these itself (a NUL in a header, a space in a path). */
const UNSENDABLE = new Set(['ERR_INVALID_CHAR', 'ERR_UNESCAPED_CHARACTERS', 'ERR_INVALID_HTTP_TOKEN']);

function send(port: number, sent: Sent): Promise<Answer | null> {
  const headers: Record<string, string | number> = { ...sent.headers };
  if (sent.payload !== undefined) headers['content-length'] = Buffer.byteLength(sent.payload);
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, method: sent.method, path: sent.url, headers, agent };
    let req: ReturnType<typeof request>;
    try {
      req = request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      });
    } catch (err) {
      if (UNSENDABLE.has((err as { code?: string }).code ?? '')) return resolve(null);
      return reject(err as Error);
    }
    req.on('error', reject);
    req.end(sent.payload);
  });
}

beforeAll(async () => {
  s = await startTestServer();
  agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const port = Number(new URL(s.url).port);
  const other = { sid: newSid(SidPrefix.account), token: newAuthToken() };
  await s.services.accounts.ensure(other.sid, other.token);
  const ws = await s.services.workspaces.create(other.sid, { friendlyName: 'Foreign' });
  target = {
    send: (sent) => send(port, sent),
    account: { ...s.account, auth: basicAuth(s.account.sid, s.account.token) },
    other: { ...other, auth: basicAuth(other.sid, other.token) },
    foreignWorkspace: ws.sid,
    spec: s.spec,
    recounter: null,
  };
});
afterAll(async () => {
  agent.destroy();
  await s.close();
});

describe('the API under random valid, boundary and hostile requests (listening server)', () => {
  it(
    `never answers 5xx, always in Twilio's error shape, and keeps statistics and queue membership exact (seed ${fuzzSettings.seed})`,
    async () => {
      await fuzzApi(target);
    },
    60_000 + fuzzSettings.runs * 2_000,
  );
});
