/**
 * Event callbacks: API write rate with callbacks off and on, and callback throughput to a local
 * receiver. One process, as one Roster node runs: the API listening on 127.0.0.1 (its clients, 32
 * keep-alive connections, in the same process), the callback sender and a receiver on 127.0.0.1
 * that answers 204.
 *
 *   npx tsx bench/callbacks.ts [updates=4000] [concurrency=32] [rounds=3]
 *
 * Each run toggles workers between two activities (one event per update); with callbacks on,
 * each event is also POSTed, signed, to the receiver. Prints the write rates, their ratio, how
 * many callbacks per second were delivered (until the last event's), and how many of them went
 * out while the writes ran.
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
const ROUNDS = Number(process.argv[4] ?? 3);

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
  // Over sockets, as clients reach a server: in-process injection never lets the event loop
  // poll for I/O, so callbacks (real sockets) would wait for the writes to end.
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const account = newSid(SidPrefix.account);
  const token = newAuthToken();
  await services.accounts.ensure(account, token);
  const auth = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');
  const post = async (url: string, form: Record<string, string>) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const body = await res.text();
    return { statusCode: res.status, body, json: <T>() => JSON.parse(body) as T };
  };
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
  const cpu0 = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpu0);
  const deliveredWhileWriting = received - receivedBefore;
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
    deliveredWhileWriting,
    delivered,
    /** CPU of the whole process (server, its clients, sender, receiver) per update while writing. */
    cpuMsPerUpdate: (cpu.user + cpu.system) / 1000 / UPDATES,
  };
}

// The machine's speed drifts within seconds: each round measures off and on back to back (which
// goes first alternates), and the ratio reported is the median of the rounds' ratios.
const rounds: { off: Awaited<ReturnType<typeof run>>; on: Awaited<ReturnType<typeof run>> }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    const off = await run(false);
    rounds.push({ off, on: await run(true) });
  } else {
    const on = await run(true);
    rounds.push({ on, off: await run(false) });
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ratios = rounds.map((r) => r.on.writesPerSecond / r.off.writesPerSecond);
process.stdout.write(
  [
    `worker updates, ${UPDATES} at ${CONCURRENCY} in flight (SQLite, one process, ${ROUNDS} rounds):`,
    `  callbacks off: ${median(rounds.map((r) => r.off.writesPerSecond)).toFixed(0)} writes/s (median)`,
    `  callbacks on:  ${median(rounds.map((r) => r.on.writesPerSecond)).toFixed(0)} writes/s (median)`,
    `  ratio: ${median(ratios).toFixed(2)}× (median of rounds: ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
    `  CPU per update while writing (whole process): off ${median(rounds.map((r) => r.off.cpuMsPerUpdate)).toFixed(3)} ms, on ${median(rounds.map((r) => r.on.cpuMsPerUpdate)).toFixed(3)} ms (medians)`,
    `  callbacks delivered: ${median(rounds.map((r) => r.on.callbacksPerSecond)).toFixed(0)} events/s (median; signed POSTs to 127.0.0.1, one workspace, in order)`,
    `  of them during the writes: ${rounds.map((r) => `${r.on.deliveredWhileWriting} of ${r.on.delivered}`).join(', ')}`,
    '',
  ].join('\n'),
);
receiver.close();
