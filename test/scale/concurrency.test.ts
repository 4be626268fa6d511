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
import type { NewWorker, Store } from '../../src/storage/store.js';
import { basicAuth, formBody } from '../helpers/app.js';
import { pick, prng, Recounter } from './recount.js';

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
    const ws = (await call('POST', '/v1/Workspaces', { FriendlyName: 'Concurrency' })).json();
    const base = `/v1/Workspaces/${ws.sid}`;
    for (const [name, available] of [
      ['Busy', 'false'],
      ['Break', 'false'],
      ['Ready', 'true'],
    ]) {
      expect(
        (await call('POST', `${base}/Activities`, { FriendlyName: name!, Available: available! })).statusCode,
      ).toBe(201);
    }
    const activities: string[] = (await call('GET', `${base}/Activities`))
      .json()
      .activities.map((a: { sid: string }) => a.sid);
    const channels: string[] = (await call('GET', `${base}/TaskChannels`))
      .json()
      .channels.map((c: { unique_name: string }) => c.unique_name);
    const channelSids = new Map<string, string>(
      (await call('GET', `${base}/TaskChannels`))
        .json()
        .channels.map((c: { unique_name: string; sid: string }) => [c.unique_name, c.sid]),
    );

    // A bulk-loaded start, as `roster seed` makes it.
    const workers: string[] = [];
    const now = new Date();
    const bulk = (count: number): NewWorker[] =>
      Array.from({ length: count }, () => {
        const sid = newSid(SidPrefix.worker);
        workers.push(sid);
        return {
          sid,
          accountSid,
          workspaceSid: ws.sid,
          friendlyName: `bulk ${sid}`,
          activitySid: pick(random, activities),
          attributes: '{}',
          now,
        };
      });
    const channelFor = () => ({ capacity: Math.floor(random() * 3), available: random() < 0.7 });
    const initial = bulk(400);
    await store.transaction((tx) => tx.insertWorkers(ws.sid, initial, channelFor));

    let created = 0;
    const statuses = new Map<string, number>();
    const count = (op: string, status: number) => {
      const key = `${op} ${status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    };
    const client = async (id: number) => {
      for (let i = 0; i < OPS_PER_CLIENT; i++) {
        const roll = random();
        if (roll < 0.3) {
          const sid = pick(random, workers);
          const res = await call('POST', `${base}/Workers/${sid}`, { ActivitySid: pick(random, activities) });
          count('activity', res.statusCode);
          expect([200, 404]).toContain(res.statusCode);
        } else if (roll < 0.5) {
          const sid = pick(random, workers);
          const res = await call('POST', `${base}/Workers/${sid}/Channels/${pick(random, channels)}`, {
            Available: random() < 0.6 ? 'true' : 'false',
            Capacity: String(Math.floor(random() * 3)),
          });
          count('channel', res.statusCode);
          expect([200, 404]).toContain(res.statusCode);
        } else if (roll < 0.6) {
          const res = await call('POST', `${base}/Workers`, {
            FriendlyName: `client ${id} worker ${created++}`,
            ActivitySid: pick(random, activities),
          });
          count('create', res.statusCode);
          expect(res.statusCode).toBe(201);
          workers.push(res.json().sid);
        } else if (roll < 0.68) {
          const at = Math.floor(random() * workers.length);
          const sid = workers[at]!;
          const res = await call('DELETE', `${base}/Workers/${sid}`);
          count('delete', res.statusCode);
          expect([204, 404]).toContain(res.statusCode);
          if (res.statusCode === 204) workers.splice(workers.indexOf(sid), 1);
        } else if (roll < 0.7) {
          const batch = bulk(25);
          await store.transaction((tx) => tx.insertWorkers(ws.sid, batch, channelFor));
          count('bulk', 200);
        } else {
          const channel = random() < 0.5 ? undefined : pick(random, channels);
          const res = await call(
            'GET',
            `${base}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel}` : ''}`,
          );
          count('read', res.statusCode);
          expect(res.statusCode).toBe(200);
          const body = res.json();
          const sum = body.activity_statistics.reduce(
            (s: number, a: { workers: number }) => s + a.workers,
            0,
          );
          expect(sum).toBe(body.total_workers);
          expect(body.activity_statistics.map((a: { sid: string }) => a.sid)).toEqual(activities);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));

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
    for (const channel of [undefined, ...channels]) {
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
