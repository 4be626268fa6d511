import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import type { ActivityCount } from '../../src/domain/types.js';
import { createServices } from '../../src/services/index.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/services/ports/store.js';
import { basicAuth, formBody } from '../helpers/app.js';
import { makeLoadWorkspace, runLoad } from './load.js';
import { bulkWorkers, prng, Recounter } from './recount.js';

/**
 * Many clients at once change activities and worker channels, create and delete workers
 * (one by HTTP, some in bulk through the store) and read Workers/RealTimeStatistics.
 * Every read is checked against a full recount of the workers as of that read.
 */
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_260_301);
const CLIENTS = 12;
const OPS_PER_CLIENT = 120;

interface Check {
  workspaceSid: string;
  taskChannelSid: string | undefined;
  counts: ActivityCount[];
  recount: ActivityCount[];
  recountTotal: number;
}

let dir: string;
let store: SqliteStore;
let recounter: Recounter;
let app: FastifyInstance;
let auth: string;
let accountSid: string;
/** Every statistics read the service made, with the recount taken at the same point. */
const checks: Check[] = [];

/** The store, but each activityCounts read is recounted at the very point it was read. */
function recountingStore(inner: SqliteStore): Store {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'activityCounts') {
        return (workspaceSid: string, taskChannelSid?: string) => {
          // The SQLite store runs the query before its first await, and commits happen only
          // in this thread: recounting before yielding sees exactly the snapshot that was read.
          const read = target.activityCounts(workspaceSid, taskChannelSid);
          const recount = recounter.counts(workspaceSid, taskChannelSid);
          const recountTotal = recounter.totalWorkers(workspaceSid);
          return read.then((counts) => {
            checks.push({ workspaceSid, taskChannelSid, counts, recount, recountTotal });
            return counts;
          });
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function call(method: 'GET' | 'POST' | 'DELETE', url: string, form?: Record<string, string>) {
  const headers: Record<string, string> = { authorization: auth };
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  return app.inject({ method, url, headers, payload: form ? formBody(form) : undefined });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-scale-'));
  const path = join(dir, 'roster.db');
  store = SqliteStore.open({ path });
  recounter = new Recounter(path);
  const services = createServices(recountingStore(store));
  app = buildApp({ services, publicUrl: 'http://roster.test' });
  await app.ready();
  accountSid = newSid(SidPrefix.account);
  const token = newAuthToken();
  await services.accounts.ensure(accountSid, token);
  auth = basicAuth(accountSid, token);
});

afterAll(async () => {
  await app.close();
  recounter.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`statistics under concurrent writes (seed ${SEED})`, () => {
  it('equal a full recount at every read', async () => {
    const random = prng(SEED);
    const ws = await makeLoadWorkspace(call, 'Concurrency', [
      ['Busy', false],
      ['Break', false],
      ['Ready', true],
    ]);
    const { base, activities } = ws;
    const channelSids = new Map(ws.channels.map((c) => [c.uniqueName, c.sid]));

    // A bulk-loaded start, as `roster seed` makes it.
    const workers: string[] = [];
    const { make: bulk, channelFor } = bulkWorkers(random, {
      accountSid,
      workspaceSid: ws.sid,
      activities,
      workers,
    });
    const initial = bulk(400);
    await store.transaction((tx) => tx.insertWorkers(ws.sid, initial, channelFor));

    const statuses = await runLoad({
      random,
      call,
      ws,
      workers,
      clients: CLIENTS,
      opsPerClient: OPS_PER_CLIENT,
      mix: { activity: 0.3, channel: 0.2, create: 0.1, delete: 0.08, bulk: 0.02 },
      bulk: async () => {
        const batch = bulk(25);
        await store.transaction((tx) => tx.insertWorkers(ws.sid, batch, channelFor));
      },
      read: async (channel) => {
        const res = await call(
          'GET',
          `${base}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel}` : ''}`,
        );
        expect(res.statusCode).toBe(200);
        const body = res.json() as {
          total_workers: number;
          activity_statistics: { sid: string; workers: number }[];
        };
        const sum = body.activity_statistics.reduce((s, a) => s + a.workers, 0);
        expect(sum).toBe(body.total_workers);
        expect(body.activity_statistics.map((a) => a.sid)).toEqual(activities);
      },
    });

    // Every read by every client, recounted as of that read.
    const reads = checks.filter((c) => c.workspaceSid === ws.sid);
    expect(reads.length).toBeGreaterThan(CLIENTS * OPS_PER_CLIENT * 0.2);
    for (const c of reads) {
      expect(c.counts, `TaskChannel ${c.taskChannelSid ?? '-'}`).toEqual(c.recount);
      if (c.taskChannelSid === undefined) {
        expect(c.counts.reduce((s, a) => s + a.workers, 0)).toBe(c.recountTotal);
      }
    }
    // The load really did interleave writes that changed the counts with the reads.
    const distinct = new Set(reads.filter((c) => !c.taskChannelSid).map((c) => JSON.stringify(c.counts)));
    expect(distinct.size).toBeGreaterThan(10);
    for (const op of ['activity 200', 'channel 200', 'create 201', 'delete 204', 'bulk 200', 'read 200']) {
      expect(statuses.get(op) ?? 0, op).toBeGreaterThan(0);
    }

    // And at rest, over HTTP, for every view.
    for (const channel of [undefined, ...ws.channels.map((c) => c.uniqueName)]) {
      const res = await call(
        'GET',
        `${base}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel}` : ''}`,
      );
      const recount = recounter.counts(ws.sid, channel ? channelSids.get(channel) : undefined);
      expect(
        res.json().activity_statistics.map((a: { sid: string; workers: number }) => [a.sid, a.workers]),
      ).toEqual(recount.map((r) => [r.activitySid, r.workers]));
      if (!channel) expect(res.json().total_workers).toBe(workers.length);
    }
  });
});
