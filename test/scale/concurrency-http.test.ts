import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices } from '../../src/services/index.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/services/ports/store.js';
import { basicAuth, formBody } from '../helpers/app.js';
import { freePort } from '../helpers/process.js';
import { makeLoadWorkspace, runLoad } from './load.js';
import { bulkWorkers, prng, Recounter } from './recount.js';

/**
 * The same kind of load as concurrency.test.ts, but through a listening server, where the
 * statistics read is answered from the service's memory while nothing has been committed. The store records a recount of
 * every view right after each commit: the sequence of states the workspace went through. Every
 * statistics response must then be exactly one of the states committed between the moment its
 * request was sent and the moment its response arrived.
 */
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_261_128);
const CLIENTS = 12;
const OPS_PER_CLIENT = 100;

let dir: string;
let store: SqliteStore;
let recounter: Recounter;
let app: FastifyInstance;
let url: string;
let auth: string;
let accountSid: string;
/** Views recorded: key (channel SID or ''), and what to recount for it. */
let views: string[] = [];
let workspaceSid = '';
/** The committed states, oldest first: for each view, the workers per activity and the total. */
const states: Map<string, string>[] = [];

function recordState(): void {
  const state = new Map<string, string>();
  if (workspaceSid) {
    const total = recounter.totalWorkers(workspaceSid);
    for (const view of views) {
      const counts = recounter.counts(workspaceSid, view || undefined);
      // With a task channel, the total is of the workers it counts.
      const viewTotal = view ? counts.reduce((sum, c) => sum + c.workers, 0) : total;
      state.set(view, JSON.stringify([viewTotal, counts.map((c) => [c.activitySid, c.workers])]));
    }
  }
  states.push(state);
}

/** The store, recording the state after every commit (effects run right after COMMIT, before any other code). */
function recordingStore(inner: SqliteStore): Store {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'transaction') {
        return <T>(work: Parameters<Store['transaction']>[0]) =>
          target.transaction(async (tx) => {
            const result = (await work(tx)) as T;
            tx.onCommit(recordState);
            return result;
          });
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, form?: Record<string, string>) {
  const headers: Record<string, string> = { authorization: auth };
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(url + path, { method, headers, body: form ? formBody(form) : undefined });
  const text = await res.text();
  return { statusCode: res.status, json: (): unknown => JSON.parse(text) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-scale-http-'));
  const path = join(dir, 'roster.db');
  store = SqliteStore.open({ path });
  recounter = new Recounter(path);
  const services = createServices(recordingStore(store));
  app = buildApp({ services, publicUrl: 'http://roster.test' });
  const port = await freePort();
  await app.listen({ host: '127.0.0.1', port });
  url = `http://127.0.0.1:${port}`;
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

describe(`statistics over HTTP under concurrent writes (seed ${SEED})`, () => {
  it('are exactly a state committed while each read was in flight', async () => {
    const random = prng(SEED);
    const ws = await makeLoadWorkspace(call, 'Concurrency over HTTP', [
      ['Busy', false],
      ['Ready', true],
    ]);
    const { base, activities } = ws;
    const channelSids = new Map(ws.channels.map((c) => [c.uniqueName, c.sid]));
    views = ['', ...ws.channels.map((c) => c.sid)];
    workspaceSid = ws.sid;

    const workers: string[] = [];
    const { make: bulk, channelFor } = bulkWorkers(random, {
      accountSid,
      workspaceSid: ws.sid,
      activities,
      workers,
    });
    const direct = recordingStore(store);
    await direct.transaction((tx) => tx.insertWorkers(ws.sid, bulk(300), channelFor));

    let reads = 0;
    const failures: string[] = [];
    const statuses = await runLoad({
      random,
      call,
      ws,
      workers,
      clients: CLIENTS,
      opsPerClient: OPS_PER_CLIENT,
      mix: { activity: 0.3, channel: 0.12, create: 0.06, delete: 0.05, bulk: 0.02 },
      bulk: async () => {
        const batch = bulk(20);
        await direct.transaction((tx) => tx.insertWorkers(ws.sid, batch, channelFor));
      },
      read: async (channel) => {
        const view = channel ? channelSids.get(channel)! : '';
        // Every state committed from just before the request to its answer.
        const from = states.length - 1;
        const res = await call(
          'GET',
          `${base}/Workers/RealTimeStatistics${channel ? `?TaskChannel=${channel}` : ''}`,
        );
        const to = states.length - 1;
        expect(res.statusCode).toBe(200);
        const body = res.json() as {
          total_workers: number;
          activity_statistics: { sid: string; workers: number }[];
        };
        const seen = JSON.stringify([
          body.total_workers,
          body.activity_statistics.map((a) => [a.sid, a.workers]),
        ]);
        const possible = states.slice(from, to + 1).map((s) => s.get(view));
        if (!possible.includes(seen)) failures.push(`read ${reads}: ${seen} not in states ${from}..${to}`);
        reads++;
      },
    });

    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(CLIENTS * OPS_PER_CLIENT * 0.3);
    for (const op of ['activity 200', 'channel 200', 'create 201', 'delete 204']) {
      expect(statuses.get(op) ?? 0, op).toBeGreaterThan(0);
    }
    // The load interleaved commits with the reads.
    expect(states.length).toBeGreaterThan(100);
  });
});
