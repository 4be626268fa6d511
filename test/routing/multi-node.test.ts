import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ManualClock } from '../../src/domain/clock.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { Store } from '../../src/services/ports/store.js';
import { basicAuth, formBody, PUBLIC_URL } from '../helpers/app.js';
import { dropSchema, newSchemaName, openPostgresTestStore, testBackend } from '../helpers/postgres.js';
import { installSpecHook, expectNoSpecViolations, type SpecHook } from '../helpers/spec-hook.js';

/**
 * Three Roster nodes on one PostgreSQL database route one workspace: tasks created and
 * reservations accepted and completed on all of them at once never double-assign a worker or a
 * task; each timer fires on exactly one node; and a node closed in the middle of routing loses
 * nothing (the others fire its timers). The nodes share one manual clock, as synchronised hosts
 * share time.
 */
const T0 = Date.parse('2025-06-02T08:00:00Z');
const WORKERS = 10;

interface Node {
  store: Store;
  services: Services;
  app: FastifyInstance;
  spec: SpecHook;
  closed: boolean;
}
interface Reservation {
  sid: string;
  task_sid: string;
  worker_sid: string;
  reservation_status: string;
}
interface Task {
  sid: string;
  assignment_status: string;
}

describe.skipIf(testBackend() !== 'postgres')('routing on three PostgreSQL nodes', () => {
  const schema = newSchemaName();
  const clock = new ManualClock(T0);
  const nodes: Node[] = [];
  const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };
  let ws = '';
  let workers: string[] = [];
  const activity: Record<string, string> = {};

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const store = openPostgresTestStore({ schema });
      const services = createServices(store, { clock });
      const app = buildApp({ services, publicUrl: PUBLIC_URL });
      const spec = installSpecHook(app);
      await app.ready();
      if (i === 0) await services.accounts.ensure(account.sid, account.token);
      await services.timers.start();
      nodes.push({ store, services, app, spec, closed: false });
    }
  });
  afterAll(async () => {
    for (const n of nodes) await close(n);
    await dropSchema(schema);
    for (const n of nodes) expectNoSpecViolations(n.spec);
  });

  async function close(n: Node): Promise<void> {
    if (n.closed) return;
    n.closed = true;
    await n.app.close();
    await n.services.timers.stop();
    await n.store.close();
  }

  const live = () => nodes.filter((n) => !n.closed);
  async function send(node: Node, method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    return node.app.inject({
      method,
      url,
      headers: {
        authorization: basicAuth(account.sid, account.token),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      payload: form ? formBody(form) : undefined,
    });
  }
  async function ok<T>(node: Node, method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    const res = await send(node, method, url, form);
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json<T>();
  }
  const v1 = (path: string) => `/v1/Workspaces/${ws}${path}`;

  /** Moves the shared clock in 1 s steps, letting every node's timers fire at each. */
  async function advance(seconds: number): Promise<void> {
    for (let s = 0; s < seconds; s++) {
      clock.advance(1_000);
      await Promise.all(live().map((n) => n.services.timers.idle()));
    }
  }

  async function state() {
    const n = live()[0]!;
    const tasks = (await ok<{ tasks: Task[] }>(n, 'GET', v1('/Tasks?PageSize=1000'))).tasks;
    const reservations: Reservation[] = [];
    for (const w of workers) {
      reservations.push(
        ...(
          await ok<{ reservations: Reservation[] }>(n, 'GET', v1(`/Workers/${w}/Reservations?PageSize=1000`))
        ).reservations,
      );
    }
    const list = (await ok<{ workers: { sid: string; activity_sid: string }[] }>(n, 'GET', v1('/Workers')))
      .workers;
    return { tasks, reservations, activityOf: new Map(list.map((w) => [w.sid, w.activity_sid])) };
  }

  /** No worker holds two tasks (capacity 1), no task two live reservations, no task waits while a worker is free. */
  async function expectInvariants() {
    const { tasks, reservations, activityOf } = await state();
    const live = reservations.filter((r) =>
      ['pending', 'accepted', 'wrapping'].includes(r.reservation_status),
    );
    for (const w of workers) {
      expect(live.filter((r) => r.worker_sid === w).length, `tasks held by ${w}`).toBeLessThanOrEqual(1);
    }
    for (const t of tasks) {
      expect(
        live.filter((r) => r.task_sid === t.sid).length,
        `live reservations of ${t.sid}`,
      ).toBeLessThanOrEqual(1);
      const accepted = reservations.filter(
        (r) => r.task_sid === t.sid && ['accepted', 'wrapping', 'completed'].includes(r.reservation_status),
      );
      expect(accepted.length, `accepted reservations of ${t.sid}`).toBeLessThanOrEqual(1);
      const expected = { pending: 0, reserved: 1, assigned: 1, wrapping: 1 }[t.assignment_status];
      if (expected !== undefined) expect(live.filter((r) => r.task_sid === t.sid).length).toBe(expected);
    }
    const free = workers.filter(
      (w) => activityOf.get(w) === activity.Available && !live.some((r) => r.worker_sid === w),
    );
    const waiting = tasks.filter((t) => t.assignment_status === 'pending');
    expect(
      free.length === 0 || waiting.length === 0,
      `${waiting.length} tasks wait while ${free.length} workers are free`,
    ).toBe(true);
    return { tasks, reservations, live };
  }

  it('sets up a workspace through one node that the others serve', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    ws = (await ok<{ sid: string }>(a, 'POST', '/v1/Workspaces', { FriendlyName: 'Nodes' })).sid;
    const acts = await ok<{ activities: { sid: string; friendly_name: string }[] }>(
      b,
      'GET',
      v1('/Activities'),
    );
    for (const x of acts.activities) activity[x.friendly_name] = x.sid;
    await ok(c, 'POST', `/v1/Workspaces/${ws}`, { TimeoutActivitySid: activity.Unavailable! });
    const queue = (
      await ok<{ sid: string }>(a, 'POST', v1('/TaskQueues'), { FriendlyName: 'All', TargetWorkers: '1==1' })
    ).sid;
    await ok(b, 'POST', v1('/Workflows'), {
      FriendlyName: 'All',
      TaskReservationTimeout: '30',
      Configuration: JSON.stringify({ task_routing: { default_filter: { queue } } }),
    });
    workers = [];
    for (let i = 0; i < WORKERS; i++) {
      const node = nodes[i % 3]!;
      workers.push(
        (
          await ok<{ sid: string }>(node, 'POST', v1('/Workers'), {
            FriendlyName: `Agent ${i}`,
            ActivitySid: activity.Available!,
          })
        ).sid,
      );
    }
  });

  it('never double-assigns under concurrent creates, accepts and completes on every node', async () => {
    const created = await Promise.all(
      Array.from({ length: 3 * WORKERS }, (_, i) =>
        ok<Task>(nodes[i % 3]!, 'POST', v1('/Tasks'), {
          TaskChannel: 'voice',
          Attributes: JSON.stringify({ i }),
        }),
      ),
    );
    expect(new Set(created.map((t) => t.sid)).size).toBe(3 * WORKERS);
    let s = await expectInvariants();
    expect(s.live.length).toBe(WORKERS);

    for (let round = 0; round < 3; round++) {
      // Every pending reservation accepted twice at once, on two different nodes: one wins.
      const pending = s.reservations.filter((r) => r.reservation_status === 'pending');
      expect(pending.length).toBe(WORKERS);
      const answers = await Promise.all(
        pending.flatMap((r, i) =>
          [i % 3, (i + 1) % 3].map((n) =>
            send(nodes[n]!, 'POST', v1(`/Tasks/${r.task_sid}/Reservations/${r.sid}`), {
              ReservationStatus: 'accepted',
            }),
          ),
        ),
      );
      for (let i = 0; i < pending.length; i++) {
        const codes = [answers[2 * i]!.statusCode, answers[2 * i + 1]!.statusCode];
        expect(
          codes.filter((c) => c === 200).length,
          `accepts of ${pending[i]!.sid}: ${codes.join(', ')}`,
        ).toBeGreaterThanOrEqual(1);
        for (const c of codes) expect([200, 400]).toContain(c);
      }
      s = await expectInvariants();
      expect(s.tasks.filter((t) => t.assignment_status === 'assigned').length).toBe(WORKERS);

      // Completed on every node at once: each freed worker takes the next waiting task.
      const assigned = s.reservations.filter((r) => r.reservation_status === 'accepted');
      await Promise.all(
        assigned.map((r, i) =>
          ok(nodes[i % 3]!, 'POST', v1(`/Tasks/${r.task_sid}/Reservations/${r.sid}`), {
            ReservationStatus: 'completed',
          }),
        ),
      );
      s = await expectInvariants();
      expect(s.tasks.filter((t) => t.assignment_status === 'completed').length).toBe((round + 1) * WORKERS);
    }
    expect(s.tasks.every((t) => t.assignment_status === 'completed')).toBe(true);
  });

  it('fires each reservation timeout on exactly one node', async () => {
    await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        ok(nodes[i % 3]!, 'POST', v1('/Tasks'), { TaskChannel: 'voice', Attributes: '{}' }),
      ),
    );
    const before = await expectInvariants();
    const pending = before.reservations.filter((r) => r.reservation_status === 'pending');
    expect(pending.length).toBe(WORKERS);

    await advance(31);
    const after = await expectInvariants();
    for (const r of pending) {
      expect(after.reservations.find((x) => x.sid === r.sid)?.reservation_status).toBe('timeout');
    }
    const events = await nodes[0]!.store.listEvents(ws, 0, 100_000);
    for (const r of pending) {
      expect(
        events.filter((e) => e.type === 'reservation.timeout' && e.resourceSid === r.sid).length,
        r.sid,
      ).toBe(1);
    }
    // Every worker went to the timeout activity, once; the tasks wait again.
    const { activityOf } = await state();
    for (const w of workers) expect(activityOf.get(w)).toBe(activity.Unavailable);
    expect(after.tasks.filter((t) => t.assignment_status === 'pending').length).toBe(WORKERS);
  });

  it('loses nothing when a node is closed in the middle of routing: the others fire its timers', async () => {
    const [a, b] = nodes as [Node, Node, Node];
    // Node a makes the workers available again (so the waiting tasks are reserved, with timers it
    // scheduled) while it takes new tasks, and is closed while those are in flight.
    for (const w of workers.slice(0, WORKERS / 2)) {
      await ok(a, 'POST', v1(`/Workers/${w}`), { ActivitySid: activity.Available! });
    }
    const inFlight = Array.from({ length: 6 }, (_, i) =>
      send(a, 'POST', v1('/Tasks'), { TaskChannel: 'voice', Attributes: JSON.stringify({ late: i }) }),
    );
    const closing = close(a);
    const answers = await Promise.all(inFlight);
    await closing;
    const accepted = answers.filter((r) => r.statusCode === 201).map((r) => r.json<Task>().sid);
    for (const r of answers) expect([201, 503]).toContain(r.statusCode);

    const before = await expectInvariants();
    for (const sid of accepted)
      expect(
        before.tasks.some((t) => t.sid === sid),
        `task ${sid} acknowledged by a`,
      ).toBe(true);
    const pending = before.reservations.filter((r) => r.reservation_status === 'pending');
    expect(pending.length).toBe(WORKERS / 2);

    // The rest of the workers come back on node b: routing goes on there.
    for (const w of workers.slice(WORKERS / 2)) {
      await ok(b, 'POST', v1(`/Workers/${w}`), { ActivitySid: activity.Available! });
    }
    const more = (await expectInvariants()).reservations.filter((r) => r.reservation_status === 'pending');
    expect(more.length).toBe(WORKERS);

    await advance(31);
    const after = await expectInvariants();
    const events = await nodes[1]!.store.listEvents(ws, 0, 100_000);
    for (const r of more) {
      expect(after.reservations.find((x) => x.sid === r.sid)?.reservation_status, r.sid).toBe('timeout');
      expect(
        events.filter((e) => e.type === 'reservation.timeout' && e.resourceSid === r.sid).length,
        r.sid,
      ).toBe(1);
    }
  });
});
