import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import type { NewTask, Store, StoreTx } from '../../src/services/ports/store.js';
import { openTestStore } from '../helpers/app.js';

/** The routing part of the Store contract (crud-routing.ts), on this project's backend. */
let dir: string;
let store: Store;
const account = newSid(SidPrefix.account);
const ws = newSid(SidPrefix.workspace);
const channel = newSid(SidPrefix.taskChannel);
const T0 = new Date('2024-01-02T03:04:05Z');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-routing-store-'));
  store = openTestStore(dir);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const tx = <T>(work: (tx: StoreTx) => Promise<T>) => store.transaction(work);

function newTask(over: Partial<NewTask> = {}): NewTask {
  return {
    sid: newSid(SidPrefix.task),
    accountSid: account,
    workspaceSid: ws,
    attributes: '{}',
    requestedPriority: 0,
    priority: 0,
    timeout: 100,
    workflowSid: null,
    taskQueueSid: null,
    taskChannelSid: channel,
    routingTarget: null,
    ignoreCapacity: null,
    createdMs: T0.getTime() + 123,
    virtualStartMs: T0.getTime() + 123,
    queueEnteredMs: null,
    now: T0,
    ...over,
  };
}

describe('routing store', () => {
  it('keeps a task exactly, bumps its version on each change, and deletes it with its reservations', async () => {
    const t = newTask({
      ignoreCapacity: true,
      routingTarget: 'WK' + '1'.repeat(32),
      priority: 7,
      requestedPriority: 3,
    });
    await tx((x) => x.insertTask(t));
    const got = await store.getTask(ws, t.sid);
    expect(got).toMatchObject({
      sid: t.sid,
      assignmentStatus: 'pending',
      priority: 7,
      requestedPriority: 3,
      ignoreCapacity: true,
      createdMs: t.createdMs,
      version: 0,
      dateCreated: T0,
      filterIndex: 0,
      stepIndex: 0,
    });
    await tx((x) => x.updateTask(t.sid, { assignmentStatus: 'reserved', filterIndex: 2 }, T0));
    expect(await store.getTask(ws, t.sid)).toMatchObject({
      assignmentStatus: 'reserved',
      filterIndex: 2,
      version: 1,
    });
    const r = newSid(SidPrefix.reservation);
    const worker = newSid(SidPrefix.worker);
    await tx((x) =>
      x.insertReservation({
        sid: r,
        accountSid: account,
        workspaceSid: ws,
        taskSid: t.sid,
        workerSid: worker,
        workerName: 'ann',
        taskChannelSid: channel,
        now: T0,
      }),
    );
    await tx((x) =>
      x.updateReservation(r, { status: 'accepted', instruction: '{"instruction":"accept"}' }, T0),
    );
    expect(await store.getReservation(ws, r)).toMatchObject({ reservationStatus: 'accepted', version: 1 });
    expect((await store.reservationsOf({ workerSid: worker }, ['accepted'])).map((x) => x.sid)).toEqual([r]);
    expect(await store.reservationsOf({ taskSid: t.sid }, ['pending'])).toEqual([]);
    await tx((x) => x.deleteTask(t.sid));
    expect(await store.getTask(ws, t.sid)).toBeNull();
    expect(await store.getReservation(ws, r)).toBeNull();
  });

  it('adds to worker loads, creating the row on first use', async () => {
    const worker = newSid(SidPrefix.worker);
    await tx((x) => x.addWorkerLoad(ws, worker, channel, { reserved: 1 }));
    await tx((x) => x.addWorkerLoad(ws, worker, channel, { reserved: -1, assigned: 1 }));
    await tx((x) => x.addWorkerLoad(ws, worker, channel, { reserved: 2, freedMs: 5 }));
    expect(await store.workerLoads(worker)).toEqual([
      { workerSid: worker, taskChannelSid: channel, reserved: 2, assigned: 1, freedMs: 5 },
    ]);
    expect(await store.workerLoadsOf([worker, newSid(SidPrefix.worker)])).toHaveLength(1);
  });

  it('lists tasks by filter, in creation order by PageToken, or ordered by offset tokens', async () => {
    const other = newSid(SidPrefix.workspace);
    const made = [];
    for (let i = 0; i < 5; i++) {
      const t = newTask({
        workspaceSid: other,
        priority: i % 3,
        createdMs: T0.getTime() + i,
        virtualStartMs: T0.getTime() - i,
      });
      made.push(t.sid);
      await tx((x) => x.insertTask(t));
    }
    const first = await store.listTasks(other, {}, { pageSize: 2, page: 0 });
    expect(first.items.map((t) => t.sid)).toEqual(made.slice(0, 2));
    const second = await store.listTasks(
      other,
      {},
      { pageSize: 2, page: 1, pageToken: first.nextPageToken! },
    );
    expect(second.items.map((t) => t.sid)).toEqual(made.slice(2, 4));

    const ordering = [
      { key: 'Priority' as const, direction: 'desc' as const },
      { key: 'VirtualStartTime' as const, direction: 'asc' as const },
    ];
    const all = await store.listTasks(other, { ordering }, { pageSize: 10, page: 0 });
    expect(all.items.map((t) => [t.priority, t.virtualStartMs - T0.getTime()])).toEqual([
      [2, -2],
      [1, -4],
      [1, -1],
      [0, -3],
      [0, 0],
    ]);
    const p1 = await store.listTasks(other, { ordering }, { pageSize: 3, page: 0 });
    const p2 = await store.listTasks(
      other,
      { ordering },
      { pageSize: 3, page: 1, pageToken: p1.nextPageToken! },
    );
    expect([...p1.items, ...p2.items].map((t) => t.sid)).toEqual(all.items.map((t) => t.sid));
    expect(p2.nextPageToken).toBeNull();
    const high = await store.listTasks(
      other,
      { priority: 1, matches: (t) => t.createdMs % 2 === 0 },
      { pageSize: 10, page: 0 },
    );
    expect(high.items.map((t) => t.sid)).toEqual([made[4]]);
    expect(await store.hasWaitingTasks(other)).toBe(true);
  });
});
