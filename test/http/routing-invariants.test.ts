import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TestApp } from '../helpers/app.js';
import { createRoutingApp } from '../helpers/routing.js';

/**
 * Random operations on one workspace (seeded), checking after each that routing's books balance:
 * loads equal a recount of reservations, no worker holds more than its capacity, no task has two
 * accepted reservations, and no task waits while a worker who may take it is free.
 */
let t: TestApp;
let clock: ManualClock;

beforeAll(async () => {
  ({ t, clock } = await createRoutingApp());
});
afterAll(() => t.close());

const op = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), priority: fc.nat(3) }),
  fc.record({ kind: fc.constant('answer' as const), n: fc.nat(20), accept: fc.boolean() }),
  fc.record({ kind: fc.constant('finish' as const), n: fc.nat(20), wrap: fc.boolean() }),
  fc.record({ kind: fc.constant('toggle' as const), n: fc.nat(3) }),
  fc.record({
    kind: fc.constant('capacity' as const),
    n: fc.nat(3),
    capacity: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant('cancel' as const), n: fc.nat(20), remove: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 40 }) }),
);

describe('routing invariants under random operations', () => {
  it('hold after every step', async () => {
    const account = t.account.sid;
    const s = t.services;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), async (ops) => {
        const ws = await s.workspaces.create(account, { friendlyName: `inv-${Math.random()}` });
        const acts = (await s.activities.list(account, ws.sid, {}, { pageSize: 50, page: 0 })).items;
        const available = acts.find((a) => a.friendlyName === 'Available')!.sid;
        const offline = acts.find((a) => a.friendlyName === 'Offline')!.sid;
        const queue = await s.taskQueues.create(account, ws.sid, {
          friendlyName: 'All',
          maxReservedWorkers: 2,
        });
        await s.workflows.create(account, ws.sid, {
          friendlyName: 'Main',
          taskReservationTimeout: 30,
          configuration: JSON.stringify({
            task_routing: {
              filters: [
                { expression: '1==1', targets: [{ queue: queue.sid, timeout: 60 }, { timeout: 60 }] },
              ],
            },
          }),
        });
        const workers: string[] = [];
        for (let i = 0; i < 4; i++) {
          workers.push(
            (await s.workers.create(account, ws.sid, { friendlyName: `w${i}`, activitySid: available })).sid,
          );
        }
        const tasks: string[] = [];
        const all = async () =>
          (await s.tasks.list(account, ws.sid, {}, { pageSize: 1000, page: 0 })).items.filter((x) =>
            tasks.includes(x.sid),
          );
        const reservations = async () => {
          const out = [];
          for (const w of workers) {
            out.push(
              ...(
                await s.reservations.list(account, ws.sid, { workerSid: w }, undefined, {
                  pageSize: 1000,
                  page: 0,
                })
              ).items,
            );
          }
          return out;
        };
        for (const o of ops) {
          const rs = await reservations();
          const pick = <T>(xs: T[], n: number) => (xs.length === 0 ? undefined : xs[n % xs.length]);
          switch (o.kind) {
            case 'create':
              tasks.push((await s.tasks.create(account, ws.sid, { priority: o.priority, timeout: 150 })).sid);
              break;
            case 'answer': {
              const r = pick(
                rs.filter((x) => x.reservationStatus === 'pending'),
                o.n,
              );
              if (r)
                await s.reservations.update(
                  account,
                  ws.sid,
                  { workerSid: r.workerSid },
                  r.sid,
                  { status: o.accept ? 'accepted' : 'rejected' },
                  undefined,
                );
              break;
            }
            case 'finish': {
              const r = pick(
                rs.filter((x) => x.reservationStatus === 'accepted' || x.reservationStatus === 'wrapping'),
                o.n,
              );
              if (r) {
                const status = o.wrap && r.reservationStatus === 'accepted' ? 'wrapping' : 'completed';
                await s.reservations.update(
                  account,
                  ws.sid,
                  { taskSid: r.taskSid },
                  r.sid,
                  { status },
                  undefined,
                );
              }
              break;
            }
            case 'toggle': {
              const w = await s.workers.fetch(account, ws.sid, workers[o.n]!);
              await s.workers.update(
                account,
                ws.sid,
                w.sid,
                { activitySid: w.available ? offline : available },
                undefined,
              );
              break;
            }
            case 'capacity':
              await s.workers.updateChannel(account, ws.sid, workers[o.n]!, 'default', {
                capacity: o.capacity,
              });
              break;
            case 'cancel': {
              const task = pick(
                (await all()).filter((x) => ['pending', 'reserved'].includes(x.assignmentStatus)),
                o.n,
              );
              if (task && o.remove) await s.tasks.remove(account, ws.sid, task.sid, undefined);
              else if (task)
                await s.tasks.update(
                  account,
                  ws.sid,
                  task.sid,
                  { assignmentStatus: 'canceled', reason: 'test' },
                  undefined,
                );
              break;
            }
            case 'wait':
              clock.advance(o.seconds * 1000);
              await s.timers.fireDue();
              break;
          }
          // The books balance.
          const now = await reservations();
          const tasksNow = await all();
          for (const w of workers) {
            const mine = now.filter((r) => r.workerSid === w);
            const pending = mine.filter((r) => r.reservationStatus === 'pending').length;
            const held = mine.filter(
              (r) => r.reservationStatus === 'accepted' || r.reservationStatus === 'wrapping',
            ).length;
            const load = (await t.store.workerLoads(w))[0] ?? { reserved: 0, assigned: 0 };
            expect([load.reserved, load.assigned]).toEqual([pending, held]);
            const channel = await s.workers.fetchChannel(account, ws.sid, w, 'default');
            expect(channel.assignedTasks).toBe(held);
          }
          for (const task of tasksNow) {
            const accepted = now.filter(
              (r) =>
                r.taskSid === task.sid && ['accepted', 'wrapping', 'completed'].includes(r.reservationStatus),
            );
            expect(accepted.length).toBeLessThanOrEqual(1);
            const pendingOfTask = now.filter(
              (r) => r.taskSid === task.sid && r.reservationStatus === 'pending',
            ).length;
            expect(task.assignmentStatus === 'reserved').toBe(pendingOfTask > 0);
          }
          // No task waits while a worker who may take it (available, with room, who has not rejected it) is free.
          const waiting = tasksNow.filter((x) => x.assignmentStatus === 'pending' && x.taskQueueSid !== null);
          for (const w of workers) {
            const worker = await s.workers.fetch(account, ws.sid, w);
            if (!worker.available) continue;
            const channel = await s.workers.fetchChannel(account, ws.sid, w, 'default');
            const load = (await t.store.workerLoads(w))[0] ?? { reserved: 0, assigned: 0 };
            if (load.reserved + load.assigned >= channel.capacity) continue;
            const free = waiting.filter(
              (x) =>
                !now.some(
                  (r) => r.taskSid === x.sid && r.workerSid === w && r.reservationStatus === 'rejected',
                ),
            );
            expect(
              free.map((x) => x.sid),
              `worker ${w} is free while tasks wait`,
            ).toEqual([]);
          }
        }
      }),
      { numRuns: 15, seed: Number(process.env.ROSTER_ROUTING_SEED ?? 12), endOnFailure: true },
    );
  }, 120_000);
});
