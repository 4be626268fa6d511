/**
 * Event callbacks: API write rate with callbacks off and on, and callback throughput to a local
 * receiver. One process, as one Roster node runs: the API (through Fastify's inject, so no
 * socket noise), the callback sender and a receiver on 127.0.0.1 that answers 204.
 *
 *   npx tsx bench/callbacks.ts [updates=4000] [concurrency=32]
 *
 * Each run toggles workers between two activities (one event per update); with callbacks on,
 * each event is also POSTed, signed, to the receiver. Prints the write rates, their ratio, and
 * how many callbacks per second were delivered (until the last event's).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { EventCallbacks } from '../src/events/event-callbacks.js';
import { createServices } from '../src/services/index.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

const UPDATES = Number(process.argv[2] ?? 4000);
const CONCURRENCY = Number(process.argv[3] ?? 32);

let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;

async function run(callbacksOn: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-callbacks-'));
  const store = SqliteStore.open({ path: join(dir, 'roster.db') });
  const services = createServices(store);
  const sender = new EventCallbacks({ store, clock: services.clock });
  sender.start();
  const app = buildApp({ services, publicUrl: 'http://bench' });
  await app.ready();
  const account = newSid(SidPrefix.account);
  const token = newAuthToken();
  await services.accounts.ensure(account, token);
  const auth = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');
  const post = (url: string, form: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
  const ws = (await post('/v1/Workspaces', { FriendlyName: 'Bench' })).json<{ sid: string }>().sid;
  const activities = (
    await app.inject({ url: `/v1/Workspaces/${ws}/Activities`, headers: { authorization: auth } })
  ).json<{ activities: { sid: string }[] }>().activities;
  const workers: string[] = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    workers.push(
      (await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: `w${i}` })).json<{ sid: string }>().sid,
    );
  }
  if (callbacksOn) {
    await post(`/v1/Workspaces/${ws}`, { EventCallbackUrl: receiverUrl });
    // What setting up queued goes out first, outside the measurement.
    while ((await store.countDeliveries()).pending > 0) await new Promise((r) => setTimeout(r, 10));
  }
  const receivedBefore = received;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    workers.map(async (worker, w) => {
      let flip = 0;
      while (next < UPDATES) {
        next++;
        const res = await post(`/v1/Workspaces/${ws}/Workers/${worker}`, {
          ActivitySid: activities[(w + flip++) % 2 === 0 ? 1 : 0]!.sid,
        });
        if (res.statusCode !== 200) throw new Error(`update answered ${res.statusCode}: ${res.body}`);
      }
    }),
  );
  const writesMs = performance.now() - t0;
  let deliveredMs = 0;
  let delivered = 0;
  if (callbacksOn) {
    // Some updates change nothing (the worker is in that activity already): wait for the queue.
    while ((await store.countDeliveries()).pending > 0) await new Promise((r) => setTimeout(r, 5));
    deliveredMs = performance.now() - t0;
    delivered = received - receivedBefore;
  }
  await sender.stop();
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    writesPerSecond: (UPDATES / writesMs) * 1000,
    callbacksPerSecond: deliveredMs ? (delivered / deliveredMs) * 1000 : 0,
  };
}

const off1 = await run(false);
const on1 = await run(true);
const off2 = await run(false);
const on2 = await run(true);
const off = Math.max(off1.writesPerSecond, off2.writesPerSecond);
const on = Math.max(on1.writesPerSecond, on2.writesPerSecond);
process.stdout.write(
  [
    `worker updates, ${UPDATES} at ${CONCURRENCY} in flight (SQLite, one process, best of two):`,
    `  callbacks off: ${off.toFixed(0)} writes/s`,
    `  callbacks on:  ${on.toFixed(0)} writes/s (${(on / off).toFixed(2)}× of off)`,
    `  callbacks delivered: ${Math.max(on1.callbacksPerSecond, on2.callbacksPerSecond).toFixed(0)} events/s (signed POSTs to 127.0.0.1, one workspace, in order)`,
    '',
  ].join('\n'),
);
receiver.close();
