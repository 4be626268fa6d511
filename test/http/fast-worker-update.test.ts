import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServices } from '../../src/services/index.js';
import type { Store } from '../../src/services/ports/store.js';
import { basicAuth, openTestStore } from '../helpers/app.js';
import { freePort } from '../helpers/process.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

/**
 * Worker updates have a fast path in front of the framework. These tests hold it to the
 * framework's route: the same status, headers and bytes, errors included, and everything it
 * does not take left to the route.
 */
interface Served {
  app: FastifyInstance;
  url: string;
  /** Requests that reached the framework. */
  framework: () => number;
}

const NOW = new Date('2026-11-28T12:00:00Z');
let dir: string;
let store: Store;
let fast: Served;
let slow: Served;
const sid = 'AC' + 'e'.repeat(32);
const other = 'AC' + 'd'.repeat(32);
const auth = basicAuth(sid, 'token-abcdef');
let ws: string;
let otherWs: string;
let activities: Record<string, string>;
let otherActivity: string;
let worker: string;

async function serve(fastPaths: boolean, writesPerSecond = 0): Promise<Served> {
  const port = await freePort();
  const app = buildApp({
    services: createServices(store, { now: () => NOW }),
    publicUrl: 'http://roster.test',
    fastPaths,
    rateLimit: { readsPerSecond: 0, writesPerSecond },
  });
  let count = 0;
  app.addHook('onSend', async () => {
    count++;
  });
  await app.listen({ host: '127.0.0.1', port });
  return { app, url: `http://127.0.0.1:${port}`, framework: () => count };
}

async function call(
  server: Served,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      authorization: auth,
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      ...headers,
    },
    body,
  });
  const h = Object.fromEntries(
    [...res.headers].filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)),
  );
  return { status: res.status, headers: h, body: await res.text() };
}

const workerPath = (w: string, workspace = ws) => `/v1/Workspaces/${workspace}/Workers/${w}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-fast-update-'));
  store = openTestStore(dir);
  const services = createServices(store);
  await services.accounts.ensure(sid, 'token-abcdef');
  await services.accounts.ensure(other, 'token-other');
  fast = await serve(true);
  slow = await serve(false);
  ws = JSON.parse((await call(slow, 'POST', '/v1/Workspaces', 'FriendlyName=Fast')).body).sid;
  const list = JSON.parse((await call(slow, 'GET', `/v1/Workspaces/${ws}/Activities`)).body) as {
    activities: { sid: string; friendly_name: string }[];
  };
  activities = Object.fromEntries(list.activities.map((a) => [a.friendly_name, a.sid]));
  worker = JSON.parse(
    (await call(slow, 'POST', `/v1/Workspaces/${ws}/Workers`, 'FriendlyName=alice')).body,
  ).sid;
  await call(slow, 'POST', `/v1/Workspaces/${ws}/Workers`, 'FriendlyName=bob');
  const theirs = await services.workspaces.create(other, { friendlyName: 'Theirs' });
  otherWs = theirs.sid;
  otherActivity = theirs.defaultActivitySid;
});
afterAll(async () => {
  await fast.app.close();
  await slow.app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the worker update fast path', () => {
  it('answers an update exactly as the route does, without the framework', async () => {
    const path = workerPath(worker);
    const start = JSON.parse((await call(slow, 'GET', path)).body).activity_sid as string;
    const before = fast.framework();
    const a = await call(
      fast,
      'POST',
      path,
      `ActivitySid=${activities.Available}&Attributes=%7B%22skill%22%3A1%7D`,
    );
    expect(fast.framework()).toBe(before);
    expect(a.status).toBe(200);
    expectMatchesSpec('UpdateWorker', 200, JSON.parse(a.body));
    // The same update through the route, from the same starting point and clock.
    await call(slow, 'POST', path, `ActivitySid=${start}&Attributes=%7B%7D`);
    const b = await call(
      slow,
      'POST',
      path,
      `ActivitySid=${activities.Available}&Attributes=%7B%22skill%22%3A1%7D`,
    );
    const etag = Number(JSON.parse(a.headers.etag!));
    expect(b.headers.etag).toBe(`"${etag + 2}"`);
    expect({ ...a, headers: { ...a.headers, etag: '' } }).toEqual({
      ...b,
      headers: { ...b.headers, etag: '' },
    });
    expect(JSON.parse(a.body)).toMatchObject({
      activity_sid: activities.Available,
      attributes: '{"skill":1}',
    });
  });

  it('shows the update at the very next read, statistics included', async () => {
    const path = workerPath(worker);
    for (const name of ['Offline', 'Unavailable', 'Available']) {
      const res = await call(fast, 'POST', path, `ActivitySid=${activities[name]}`);
      expect(res.status).toBe(200);
      expect(JSON.parse((await call(fast, 'GET', path)).body).activity_name).toBe(name);
      const stats = JSON.parse(
        (await call(fast, 'GET', `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`)).body,
      );
      const counted = stats.activity_statistics.find((s: { sid: string }) => s.sid === activities[name]);
      expect(counted.workers).toBeGreaterThanOrEqual(1);
    }
  });

  it('answers errors exactly as the route does, and changes nothing', async () => {
    const path = workerPath(worker);
    const unknown = 'WK' + '0'.repeat(32);
    const cases: [string, string, number][] = [
      [workerPath(unknown), `ActivitySid=${activities.Offline}`, 404],
      [workerPath(worker, 'WS' + '0'.repeat(32)), `ActivitySid=${activities.Offline}`, 404],
      [workerPath(worker, otherWs), `ActivitySid=${activities.Offline}`, 404],
      [path, 'ActivitySid=WAnope', 400],
      [path, `ActivitySid=${otherActivity}`, 400],
      [path, `ActivitySid=WA${'0'.repeat(32)}`, 400],
      [path, 'Attributes=%7Bnot-json', 400],
      [path, 'Attributes=%5B1%5D', 400],
      [path, 'FriendlyName=bob', 400],
      [path, 'FriendlyName=', 400],
      [path, 'RejectPendingReservations=maybe', 400],
      [path, 'ActivitySid=%ZZ', 400],
      [path, `ActivitySid=${activities.Offline}&ActivitySid=${activities.Available}`, 400],
    ];
    const worker0 = (await call(slow, 'GET', path)).body;
    for (const [url, body, status] of cases) {
      const before = fast.framework();
      const a = await call(fast, 'POST', url, body);
      expect(fast.framework(), body).toBe(before);
      expect(a, `${url} ${body}`).toEqual(await call(slow, 'POST', url, body));
      expect(a.status, body).toBe(status);
      expectTwilioError(JSON.parse(a.body), status, status === 404 ? 20404 : 20001);
    }
    expect((await call(slow, 'GET', path)).body).toBe(worker0);
  });

  it('leaves what it does not take to the route', async () => {
    const path = workerPath(worker);
    const move = `ActivitySid=${activities.Offline}`;
    const cases: [string, string | undefined, Record<string, string>, number][] = [
      [path, move, { authorization: basicAuth(sid, 'wrong') }, 401],
      [path, move, { 'if-match': '"0"' }, 412],
      [path, move, { origin: 'http://localhost:5173' }, 200],
      [
        path,
        JSON.stringify({ ActivitySid: activities.Offline }),
        { 'content-type': 'application/json' },
        200,
      ],
      [`${path}?x=1`, move, {}, 200],
      // SIDs are lower-case hex; the route says so (404)
      [
        path.toUpperCase().replace('/V1/WORKSPACES/', '/v1/Workspaces/').replace('/WORKERS/', '/Workers/'),
        move,
        {},
        404,
      ],
      [path, '', {}, 200],
    ];
    for (const [url, body, headers, status] of cases) {
      const before = fast.framework();
      const a = await call(fast, 'POST', url, body, headers);
      expect(fast.framework(), `${url} ${JSON.stringify(headers)}`).toBe(before + 1);
      expect(a.status, `${url} ${JSON.stringify(headers)}`).toBe(status);
    }
  });

  it('spends from the same rate limit as the route', async () => {
    const limited = await serve(true, 2);
    try {
      const path = workerPath(worker);
      const first = await call(limited, 'POST', path, `ActivitySid=${activities.Offline}`);
      const second = await call(limited, 'POST', path, `ActivitySid=${activities.Available}`);
      expect([first.headers['x-rate-limit-remaining'], second.headers['x-rate-limit-remaining']]).toEqual([
        '1',
        '0',
      ]);
      expect(first.headers['x-rate-limit-config']).toBe('Write');
      const before = limited.framework();
      const third = await call(limited, 'POST', path, `ActivitySid=${activities.Offline}`);
      expect(limited.framework()).toBe(before + 1);
      expect(third.status).toBe(429);
      expectTwilioError(JSON.parse(third.body), 429, 20429);
    } finally {
      await limited.app.close();
    }
  });
});
