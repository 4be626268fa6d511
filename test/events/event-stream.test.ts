import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServices } from '../../src/services/index.js';
import type { ChangeBus } from '../../src/services/changes.js';
import type { Store } from '../../src/services/ports/store.js';
import { eventRow } from '../../src/storage/event-queries.js';
import { PgChangeBus } from '../../src/storage/postgres/pg-change-bus.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createTestApp, formBody, openTestStore, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { requireTestDatabaseUrl, schemaForDir, testBackend } from '../helpers/postgres.js';
import { SseClient, waitFor } from '../http/stream-client.js';

/**
 * `Accept: text/event-stream` on the Events list: the workspace's events as they commit, with
 * the list's filters, resumable with Last-Event-ID from memory or from the log. A small buffer
 * and read batch make every path run: a client away for more than a few events reads the log.
 */
const postgres = testBackend() === 'postgres';
const dir = mkdtempSync(join(tmpdir(), 'roster-event-stream-'));
let t: TestApp;
let base: string;
/** On PostgreSQL, the buses that carry change notifications between the two nodes. */
const buses: (ChangeBus & { close(): Promise<void>; ready(): Promise<void> })[] = [];
let busStore: Store | undefined;

beforeAll(async () => {
  let changes: ChangeBus | undefined;
  if (postgres) {
    busStore = openTestStore(dir);
    const bus = new PgChangeBus(busStore as PostgresStore);
    buses.push(bus);
    await bus.ready();
    changes = bus;
  }
  t = await createTestApp({
    dir,
    serviceOptions: changes ? { changes } : undefined,
    live: { stream: { heartbeatMs: 100 } },
    eventStream: { bufferEvents: 4, readBatch: 3 },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
  for (const b of buses) await b.close();
  await busStore?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function newWorkspace(name: string) {
  const res = await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: name } });
  expect(res.statusCode).toBe(201);
  return res.json().sid as string;
}

async function addWorker(ws: string, name: string) {
  const res = await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/Workers`,
    form: { FriendlyName: name },
  });
  expect(res.statusCode).toBe(201);
  return res.json().sid as string;
}

async function rename(ws: string, worker: string, name: string) {
  const res = await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/Workers/${worker}`,
    form: { FriendlyName: name },
  });
  expect(res.statusCode).toBe(200);
}

function subscribe(ws: string, query = '', headers: Record<string, string> = {}) {
  return SseClient.open(`${base}/v1/Workspaces/${ws}/Events${query}`, {
    authorization: t.account.auth,
    ...headers,
  });
}

/** Every event of the workspace, oldest first, as the Events list serializes them. */
async function logged(ws: string): Promise<{ sid: string; event_type: string }[]> {
  const res = await t.request({ url: `/v1/Workspaces/${ws}/Events?PageSize=1000&Minutes=60` });
  expect(res.statusCode).toBe(200);
  return res.json().events;
}

/**
 * A stream that starts after the workspace's newest event so far (its Last-Event-ID). Without
 * one a stream starts at the newest *final* event, which on PostgreSQL may lag a little behind
 * what just committed while other sessions' transactions run: a test that counts events from
 * "now" would see those too.
 */
async function subscribeAfterAll(ws: string, query = '') {
  const events = await t.store.listEvents(ws, 0, 100_000);
  return subscribe(ws, query, { 'last-event-id': String(events.at(-1)!.id) });
}

const sidsOf = (s: SseClient) => s.events.map((e) => (JSON.parse(e.data) as { sid: string }).sid);

describe(`the event stream (${testBackend()})`, () => {
  it('needs the credentials and the workspace the list needs', async () => {
    const ws = await newWorkspace('Auth');
    const anonymous = await SseClient.open(`${base}/v1/Workspaces/${ws}/Events`);
    expect(anonymous.status).toBe(401);
    const other = await t.newAccount();
    const foreign = await subscribe(ws, '', { authorization: other.auth });
    expect(foreign.status).toBe(404);
    expect(JSON.parse(await foreign.text())).toMatchObject({ status: 404 });
    const bad = await subscribe(ws, '?WorkerSid=nope');
    expect(bad.status).toBe(400);
    const badId = await subscribe(ws, '', { 'last-event-id': 'abc' });
    expect(badId.status).toBe(400);
  });

  it('sends each new event once, as the Events resource serializes it', async () => {
    const ws = await newWorkspace('Live');
    const s = await subscribe(ws);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    const before = (await logged(ws)).length;
    const worker = await addWorker(ws, 'Alice');
    await rename(ws, worker, 'Alicia');
    const all = await logged(ws);
    const fresh = all.slice(before);
    expect(fresh.map((e) => e.event_type)).toEqual(['worker.created', 'worker.updated']);
    const freshSids = fresh.map((e) => e.sid);
    await s.waitUntil(() => freshSids.every((sid) => sidsOf(s).includes(sid)));
    // The new ones last, each once (on PostgreSQL a few from just before may come first).
    expect(sidsOf(s).slice(-freshSids.length)).toEqual(freshSids);
    expect(new Set(sidsOf(s)).size).toBe(s.events.length);
    for (const e of s.events) {
      const json = JSON.parse(e.data) as { sid: string };
      const fetched = await t.request({ url: `/v1/Workspaces/${ws}/Events/${json.sid}` });
      expect(e.data).toBe(fetched.body);
      expect(Number(e.id)).toBeGreaterThan(0);
    }
    await s.waitUntil(() => s.comments.includes('heartbeat'));
    s.close();
  });

  it('applies the list filters', async () => {
    const ws = await newWorkspace('Filters');
    const alice = await addWorker(ws, 'Alice');
    const byWorker = await subscribeAfterAll(ws, `?WorkerSid=${alice}`);
    const byType = await subscribeAfterAll(ws, '?EventType=worker.created');
    const bob = await addWorker(ws, 'Bob');
    await rename(ws, bob, 'Robert');
    await rename(ws, alice, 'Alicia');
    const all = await logged(ws);
    const last = all[all.length - 1]!;
    await byWorker.waitUntil(() => sidsOf(byWorker).includes(last.sid));
    expect(byWorker.events.map((e) => JSON.parse(e.data).event_type)).toEqual(['worker.updated']);
    expect(byWorker.events.map((e) => JSON.parse(e.data).resource_sid)).toEqual([alice]);
    // A filter that matches nothing more still moves on: the next match comes through.
    const carol = await addWorker(ws, 'Carol');
    await byType.waitUntil(() => byType.events.length === 2);
    expect(byType.events.map((e) => JSON.parse(e.data).resource_sid)).toEqual([bob, carol]);
    byWorker.close();
    byType.close();
  });

  let resumeFrom = '';
  it('resumes after Last-Event-ID with neither a gap nor a duplicate, however long it was away', async () => {
    const ws = await newWorkspace('Resume');
    const first = await subscribeAfterAll(ws);
    const w = await addWorker(ws, 'w0');
    await first.waitUntil(() => first.events.length === 1);
    const lastId = first.events[0]!.id!;
    first.close();
    // Away for one event (in memory still), then for far more than the buffer holds.
    for (const gap of [1, 20]) {
      const before = (await logged(ws)).length;
      for (let i = 0; i < gap; i++) await rename(ws, w, `w${gap}-${i}`);
      const expected = (await logged(ws)).slice(before).map((e) => e.sid);
      const s = await subscribe(ws, '', { 'last-event-id': gap === 1 ? lastId : resumeFrom });
      await s.waitUntil(() => s.events.length >= expected.length);
      expect(sidsOf(s)).toEqual(expected);
      resumeFrom = s.events[s.events.length - 1]!.id!;
      s.close();
    }
    // The same through the query, as EventSource polyfills send it; then live again.
    const s = await subscribe(ws, `?lastEventId=${resumeFrom}`);
    await rename(ws, w, 'again');
    await s.waitUntil(() => s.events.length === 1);
    expect(JSON.parse(s.events[0]!.data).event_type).toBe('worker.updated');
    s.close();
  });

  it('starts with the events since Minutes ago when asked', async () => {
    const ws = await newWorkspace('Backfill');
    await addWorker(ws, 'a');
    await addWorker(ws, 'b');
    const all = await logged(ws);
    const s = await subscribe(ws, '?Minutes=60');
    await s.waitUntil(() => s.events.length >= all.length);
    expect(sidsOf(s)).toEqual(all.map((e) => e.sid));
    s.close();
    const ended = await subscribe(ws, '?EndDate=2026-01-01T00:00:00Z');
    expect(ended.status).toBe(400);
  });

  it('keeps a slow reader whole: it reads the log once it drains', async () => {
    const ws = await newWorkspace('Slow');
    const w = await addWorker(ws, 'w');
    const before = (await logged(ws)).length;
    const s = await subscribeAfterAll(ws);
    s.res.pause();
    const long = 'x'.repeat(16_000);
    // Until the socket pushes back (the kernel's buffers are full), then a good many more.
    let maxBuffered = 0;
    let afterBlocked = 0;
    for (let i = 0; afterBlocked < 30 && i < 3000; i++) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/Workers/${w}`,
        form: { Attributes: JSON.stringify({ i, long }) },
      });
      expect(res.statusCode).toBe(200);
      maxBuffered = Math.max(maxBuffered, t.app.eventStreams.bufferedBytes);
      if (maxBuffered > 0) afterBlocked++;
    }
    // The socket refused more: the stream kept its place, not the events (at most its
    // socket's high-water mark and a frame).
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 40_000);
    s.res.resume();
    const expected = (await logged(ws)).slice(before);
    await s.waitUntil(() => s.events.length >= expected.length);
    expect(sidsOf(s)).toEqual(expected.map((e) => e.sid));
    s.close();
  });

  it('answers HEAD as the list, and counts streams in /metrics', async () => {
    const ws = await newWorkspace('Head');
    const head = await t.request({
      method: 'HEAD',
      url: `/v1/Workspaces/${ws}/Events`,
      headers: { accept: 'text/event-stream' },
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/roster_event_stream_events_total \d+/);
    expect(metrics).toMatch(/roster_event_stream_catch_up_reads_total [1-9]/);
  });

  it.runIf(postgres)('sends the events another node commits', async () => {
    const ws = await newWorkspace('Two nodes');
    const s = await subscribeAfterAll(ws);
    const store = openTestStore(dir);
    const bus = new PgChangeBus(store as PostgresStore);
    buses.push(bus);
    await bus.ready();
    const other = buildApp({ services: createServices(store, { changes: bus }), publicUrl: PUBLIC_URL });
    try {
      const res = await other.inject({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/Workers`,
        headers: { authorization: t.account.auth, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ FriendlyName: 'From afar' }),
      });
      expect(res.statusCode).toBe(201);
      await s.waitUntil(() => s.events.length === 1);
      expect(JSON.parse(s.events[0]!.data)).toMatchObject({
        event_type: 'worker.created',
        resource_sid: res.json().sid,
      });
    } finally {
      s.close();
      await other.close();
      await store.close();
    }
  });

  it.runIf(postgres)('never passes an event that commits later with a lower id', async () => {
    const ws = await newWorkspace('Out of order');
    const s = await subscribeAfterAll(ws);
    const url = new URL(requireTestDatabaseUrl());
    url.searchParams.set('options', `-c search_path=${schemaForDir(dir)}`);
    const slow = new pg.Client({ connectionString: url.toString() });
    await slow.connect();
    try {
      // A transaction logs an event (lower id) and stays open while a request commits its own.
      const row = eventRow({
        type: 'workspace.updated',
        accountSid: t.account.sid,
        workspaceSid: ws,
        resourceType: 'Workspace',
        resourceSid: ws,
        actor: t.account.sid,
        timeMs: Date.now(),
        data: { friendly_name: 'Out of order' },
      });
      await slow.query('BEGIN');
      const cols = Object.keys(row);
      await slow.query(
        `INSERT INTO events (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
      await addWorker(ws, 'Quick');
      // Held back behind the open transaction (the stream polls meanwhile)…
      await new Promise((r) => setTimeout(r, 300));
      expect(s.events).toHaveLength(0);
      await slow.query('COMMIT');
      await s.waitUntil(() => s.events.length === 2);
      // …then both, in log order: the earlier transaction's first.
      expect(s.events.map((e) => JSON.parse(e.data).event_type)).toEqual([
        'workspace.updated',
        'worker.created',
      ]);
    } finally {
      await slow.end();
      s.close();
    }
  });

  it('ends its streams when the server closes', async () => {
    const ws = await newWorkspace('Closing');
    const s = await subscribe(ws);
    await waitFor(() => t.app.eventStreams.size > 0);
    t.app.eventStreams.close();
    await s.closed();
  });
});
