import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import type { Reservation } from '../../src/domain/types.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { openPostgresTestStore } from '../helpers/postgres.js';

/**
 * Two nodes (two stores, two sets of services) routing one workspace at once on PostgreSQL:
 * no worker is offered more than its capacity, no task is accepted twice, loads equal a recount.
 */
const account = newSid(SidPrefix.account);
let first: PostgresStore;
let second: PostgresStore;
let a: Services;
let b: Services;

beforeAll(async () => {
  first = openPostgresTestStore();
  second = openPostgresTestStore({ schema: first.schema });
  a = createServices(first);
  b = createServices(second);
  await a.accounts.ensure(account, newAuthToken());
});
afterAll(async () => {
  await second.close();
  await first.close();
});

async function allReservations(services: Services, ws: string, workers: string[]): Promise<Reservation[]> {
  const out: Reservation[] = [];
  for (const w of workers) {
    out.push(
      ...(
        await services.reservations.list(account, ws, { workerSid: w }, undefined, {
          pageSize: 1000,
          page: 0,
        })
      ).items,
    );
  }
  return out;
}

describe('routing on two PostgreSQL nodes', () => {
  it('never gives a worker more than its capacity, nor a task two accepted reservations', async () => {
    const ws = await a.workspaces.create(account, { friendlyName: 'Two nodes', multiTaskEnabled: true });
    const activities = await a.activities.list(account, ws.sid, {}, { pageSize: 50, page: 0 });
    const available = activities.items.find((x) => x.friendlyName === 'Available')!.sid;
    const offline = activities.items.find((x) => x.friendlyName === 'Offline')!.sid;
    const queue = await a.taskQueues.create(account, ws.sid, { friendlyName: 'All', maxReservedWorkers: 2 });
    await a.workflows.create(account, ws.sid, {
      friendlyName: 'Main',
      configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queue.sid } } }),
    });
    const workers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const w = await a.workers.create(account, ws.sid, { friendlyName: `w${i}`, activitySid: offline });
      await a.workers.updateChannel(account, ws.sid, w.sid, 'default', { capacity: 2 });
      workers.push(w.sid);
    }
    // Tasks arrive on both nodes while workers come online on both.
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) work.push((i % 2 ? a : b).tasks.create(account, ws.sid, {}));
    workers.forEach((w, i) =>
      work.push((i % 2 ? b : a).workers.update(account, ws.sid, w, { activitySid: available }, undefined)),
    );
    await Promise.all(work);

    // Every pending reservation is accepted at once on both nodes (each twice: one must lose).
    const pending = (await allReservations(a, ws.sid, workers)).filter(
      (r) => r.reservationStatus === 'pending',
    );
    const answers = await Promise.allSettled(
      pending.flatMap((r) =>
        [a, b].map((node) =>
          node.reservations.update(
            account,
            ws.sid,
            { taskSid: r.taskSid },
            r.sid,
            { status: 'accepted' },
            undefined,
          ),
        ),
      ),
    );
    expect(answers.some((x) => x.status === 'fulfilled')).toBe(true);

    const reservations = await allReservations(a, ws.sid, workers);
    const acceptedPerTask = new Map<string, number>();
    for (const r of reservations) {
      if (r.reservationStatus === 'accepted')
        acceptedPerTask.set(r.taskSid, (acceptedPerTask.get(r.taskSid) ?? 0) + 1);
    }
    expect(Math.max(...acceptedPerTask.values())).toBe(1);
    for (const w of workers) {
      const holding = reservations.filter(
        (r) => r.workerSid === w && ['pending', 'accepted', 'wrapping'].includes(r.reservationStatus),
      );
      const accepted = holding.filter((r) => r.reservationStatus !== 'pending').length;
      expect(holding.length).toBeLessThanOrEqual(2);
      const [channel] = (await a.workers.listChannels(account, ws.sid, w, { pageSize: 10, page: 0 })).items;
      expect(channel!.assignedTasks).toBe(accepted);
      const [load] = await first.workerLoads(w);
      expect(load).toMatchObject({ assigned: accepted, reserved: holding.length - accepted });
    }
    const tasks = await a.tasks.list(account, ws.sid, {}, { pageSize: 100, page: 0 });
    const assigned = tasks.items.filter((t) => t.assignmentStatus === 'assigned').length;
    expect(assigned).toBe(acceptedPerTask.size);
    // Six workers of capacity two: twelve tasks assigned, the rest wait.
    expect(assigned).toBe(12);
  });
});
