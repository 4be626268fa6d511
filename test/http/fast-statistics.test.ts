import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServices } from '../../src/services/index.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/services/ports/store.js';
import { basicAuth, openTestStore } from '../helpers/app.js';
import { freePort } from '../helpers/process.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

/**
 * The statistics read has a fast path in front of the framework. These tests hold it to the
 * framework's route: the same status, headers and bytes, and everything else left to the route.
 */
interface Served {
  app: FastifyInstance;
  url: string;
  /** Requests that reached the framework. */
  framework: () => number;
}

let dir: string;
let store: Store;
let fast: Served;
let slow: Served;
let auth: string;
let ws: string;
const sid = 'AC' + 'f'.repeat(32);

async function serve(fastPaths: boolean, readsPerSecond = 0): Promise<Served> {
  const services = createServices(store);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = buildApp({
    services,
    publicUrl: 'http://roster.test',
    fastPaths,
    rateLimit: { readsPerSecond, writesPerSecond: 0 },
  });
  let count = 0;
  app.addHook('onSend', async () => {
    count++;
  });
  await app.listen({ host: '127.0.0.1', port });
  return { app, url, framework: () => count };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-fast-'));
  store = openTestStore(dir);
  await createServices(store).accounts.ensure(sid, 'token-123456');
  auth = basicAuth(sid, 'token-123456');
  fast = await serve(true);
  slow = await serve(false);
  const created = await fetch(`${fast.url}/v1/Workspaces`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'FriendlyName=Fast',
  });
  ws = (await created.json()).sid;
  for (const name of ['a', 'b', 'c']) {
    await fetch(`${fast.url}/v1/Workspaces/${ws}/Workers`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: `FriendlyName=${name}`,
    });
  }
});
afterAll(async () => {
  await fast.app.close();
  await slow.app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(server: Served, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, { headers: { authorization: auth, ...headers } });
  const h = Object.fromEntries(
    [...res.headers].filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)),
  );
  return { status: res.status, headers: h, body: await res.text() };
}

describe('the statistics fast path', () => {
  it.each(['', '?TaskChannel=voice'])(
    'answers %s exactly as the route does, without the framework',
    async (q) => {
      const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics${q}`;
      const before = fast.framework();
      const a = await get(fast, path);
      expect(fast.framework()).toBe(before);
      const b = await get(slow, path);
      expect(a).toEqual(b);
      expect(a.status).toBe(200);
      expectMatchesSpec('FetchWorkersRealTimeStatistics', 200, JSON.parse(a.body));
      expect(JSON.parse(a.body).total_workers).toBe(3);
    },
  );

  it('shows a write at the very next read', async () => {
    const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    await get(fast, path);
    const created = await fetch(`${fast.url}/v1/Workspaces/${ws}/Workers`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'FriendlyName=d',
    });
    expect(created.status).toBe(201);
    expect(JSON.parse((await get(fast, path)).body).total_workers).toBe(4);
    await store.transaction(async (tx) => tx.deleteWorker((await created.json()).sid));
    expect(JSON.parse((await get(fast, path)).body).total_workers).toBe(3);
  });

  it('answers from memory only while nothing has changed: a new token locks the old one out at once', async () => {
    const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    const services = createServices(store);
    for (let i = 0; i < 3; i++) expect((await get(fast, path)).status).toBe(200);
    try {
      await services.accounts.ensure(sid, 'token-rotated');
      expect((await get(fast, path)).status).toBe(401);
      const rotated = await get(fast, path, { authorization: basicAuth(sid, 'token-rotated') });
      expect(rotated.status).toBe(200);
    } finally {
      await services.accounts.ensure(sid, 'token-123456');
    }
    expect((await get(fast, path)).status).toBe(200);
  });

  it('sees a write through another connection, as another process makes, at the very next read', async () => {
    if (store.dialect !== 'sqlite') return; // PostgreSQL has no read cache to test
    const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    const total = () => get(fast, path).then((r) => JSON.parse(r.body).total_workers as number);
    const before = await total();
    expect(await total()).toBe(before); // answered from memory
    const another = SqliteStore.open({ path: join(dir, 'roster.db') });
    try {
      const created = await createServices(another).workers.create(sid, ws, { friendlyName: 'elsewhere' });
      expect(await total()).toBe(before + 1);
      await another.transaction((tx) => tx.deleteWorker(created.sid));
      expect(await total()).toBe(before);
    } finally {
      await another.close();
    }
  });

  it('leaves errors, browsers and streams to the route', async () => {
    const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    const cases: [string, Record<string, string>, number][] = [
      [path, { authorization: basicAuth(sid, 'wrong') }, 401],
      [`${path}?TaskChannel=fax`, {}, 404],
      [`/v1/Workspaces/WS${'0'.repeat(32)}/Workers/RealTimeStatistics`, {}, 404],
      [`${path}?TaskChannel=voice&Extra=1`, {}, 200],
      [path, { origin: 'http://localhost:5173' }, 200],
    ];
    for (const [url, headers, status] of cases) {
      const before = fast.framework();
      const a = await get(fast, url, headers);
      expect(fast.framework(), url).toBe(before + 1);
      expect(a).toEqual(await get(slow, url, headers));
      expect(a.status).toBe(status);
      if (status >= 400) expectTwilioError(JSON.parse(a.body), status, status === 401 ? 20003 : 20404);
    }
  });

  it('leaves event streams to the route, however Accept is spelled', async () => {
    const abort = new AbortController();
    const res = await fetch(`${fast.url}/v1/Workspaces/${ws}/Workers/RealTimeStatistics`, {
      headers: { authorization: auth, accept: 'TEXT/EVENT-STREAM' },
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
  });

  it('spends from the same rate limit as the route', async () => {
    const limited = await serve(true, 2);
    try {
      const path = `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
      const first = await get(limited, path);
      const second = await get(limited, `${path}?TaskChannel=voice`);
      expect([first.headers['x-rate-limit-remaining'], second.headers['x-rate-limit-remaining']]).toEqual([
        '1',
        '0',
      ]);
      const third = await get(limited, path);
      expect(third.status).toBe(429);
      expectTwilioError(JSON.parse(third.body), 429, 20429);
    } finally {
      await limited.app.close();
    }
  });
});
