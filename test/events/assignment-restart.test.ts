import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { AssignmentCallbacks } from '../../src/events/assignment-callbacks.js';
import { routingAssignmentPort } from '../../src/events/assignment-port.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { Store } from '../../src/services/ports/store.js';
import { createTestApp, openTestStore, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { routingHelpers, type RoutingSetup } from '../helpers/routing.js';
import { Receiver } from './receiver.js';

/**
 * Assignment callbacks survive a restart: a reservation committed while no callback sender ran
 * (the server stopped right after) is called back once Roster runs again, and one whose POST a
 * stop cut short is sent again. Each "run" is a store, services and sender of its own on the
 * same database.
 */
const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
const dir = mkdtempSync(join(tmpdir(), 'roster-assign-restart-'));
let t: TestApp;
let h: ReturnType<typeof routingHelpers>;
let s: RoutingSetup;
let receiver: Receiver;
/** Accepts connections and never answers: a receiver that hangs. */
let silent: Server;
const sockets: Socket[] = [];
let silentUrl: string;

interface Run {
  store: Store;
  services: Services;
  callbacks: AssignmentCallbacks;
}

function startRun(): Run {
  const store = openTestStore(dir);
  const services = createServices(store, { clock });
  const callbacks = new AssignmentCallbacks(
    { store, port: routingAssignmentPort(store, services, clock), clock },
    { timeoutMs: 60_000 },
  );
  callbacks.start();
  return { store, services, callbacks };
}

async function stopRun(run: Run): Promise<void> {
  await run.callbacks.stop();
  await run.store.close();
}

beforeAll(async () => {
  t = await createTestApp({ dir, clock });
  h = routingHelpers(t);
  receiver = await new Receiver().start('/assignment');
  receiver.respond = () => ({ status: 200, body: '{"instruction":"accept"}' });
  silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hangs`;
  s = await h.workspace();
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => silent.close(r));
  await receiver.close();
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function reservationOf(task: string): Promise<{ sid: string; status: string }> {
  const res = await t.request({ url: `/v1/Workspaces/${s.ws}/Tasks/${task}/Reservations` });
  const [r] = res.json().reservations as { sid: string; reservation_status: string }[];
  return { sid: r!.sid, status: r!.reservation_status };
}

describe(`assignment callbacks across a restart (${testBackend()})`, () => {
  it('calls back a reservation committed while nothing was sending, once Roster runs again', async () => {
    await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, { AssignmentCallbackUrl: receiver.url });
    await h.worker(s, 'Ann', s.idle);
    // The API commits the reservation; no sender runs (Roster stopped right after the commit).
    const task = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"n":1}' })).sid as string;
    expect((await reservationOf(task)).status).toBe('pending');
    expect(receiver.received).toHaveLength(0);

    const run = startRun();
    try {
      await receiver.until(1);
      await run.callbacks.idle();
      const r = await reservationOf(task);
      expect(receiver.received[0]!.params.ReservationSid).toBe(r.sid);
      expect(r.status).toBe('accepted');
      // Done: a run after this one has nothing to send.
    } finally {
      await stopRun(run);
    }
    const again = startRun();
    await again.callbacks.idle();
    await stopRun(again);
    expect(receiver.received).toHaveLength(1);
  });

  it('sends again a callback a stop cut short', async () => {
    await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, { AssignmentCallbackUrl: silentUrl });
    await h.worker(s, 'Bob', s.idle);
    const first = startRun();
    const task = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"n":2}' })).sid as string;
    // The API's commit is another store's here (as another node's would be): wake it as its poll would.
    first.callbacks.wake();
    // The POST is under way (the receiver holds it), and the server stops.
    await new Promise<void>((resolve) => {
      const check = () => (sockets.length > 0 ? resolve() : setTimeout(check, 10));
      check();
    });
    await stopRun(first);
    expect((await reservationOf(task)).status).toBe('pending');

    // Started again, with a receiver that answers this time.
    await h.post(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`, { AssignmentCallbackUrl: receiver.url });
    const before = receiver.received.length;
    const second = startRun();
    try {
      await receiver.until(before + 1);
      await second.callbacks.idle();
      expect(receiver.received.at(-1)!.params.TaskSid).toBe(task);
      expect((await reservationOf(task)).status).toBe('accepted');
    } finally {
      await stopRun(second);
    }
  });

  it('takes over a callback whose node died, once its lease runs out', async () => {
    await h.worker(s, 'Cy', s.idle);
    // A node claims it and dies before the POST: its lease stands until it runs out.
    const dead = openTestStore(dir);
    const task = (await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { Attributes: '{"n":3}' })).sid as string;
    const claimed = await dead.transaction((tx) => tx.claimAssignmentCallbacks(clock.now(), 60_000, 10));
    expect(claimed.map((e) => e.data.task_sid)).toEqual([task]);
    await dead.close();

    const before = receiver.received.length;
    const run = startRun();
    try {
      await run.callbacks.idle();
      expect(receiver.received).toHaveLength(before);
      clock.advance(61_000); // the poll after the lease ran out claims it
      await receiver.until(before + 1);
      await run.callbacks.idle();
      expect(receiver.received.at(-1)!.params.TaskSid).toBe(task);
    } finally {
      await stopRun(run);
    }
  });
});
