import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidParameterError } from '../../src/domain/errors.js';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import type { ActivityCount } from '../../src/domain/types.js';
import type { NewWorker, Page, PageQuery, Store, StoreTx } from '../../src/services/ports/store.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * The Store contract: every operation, the statistics, paging and error mapping. The sqlite
 * project runs it on SQLite, the postgres project on PostgreSQL; both must pass unchanged.
 */

let dir: string;
let store: Store;
const account = newSid(SidPrefix.account);
const T0 = new Date('2024-01-02T03:04:05Z');
const T1 = new Date('2024-01-02T03:05:00Z');
const CHANNEL = { capacity: 1, available: true };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-contract-'));
  store = openTestStore(dir);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const tx = <T>(work: (tx: StoreTx) => Promise<T>) => store.transaction(work);

interface Ws {
  sid: string;
  offline: string;
  available: string;
  unavailable: string;
  voice: string;
  sms: string;
}

/** A workspace with three activities and two task channels, made through the store. */
async function makeWorkspace(name = 'W'): Promise<Ws> {
  const w: Ws = {
    sid: newSid(SidPrefix.workspace),
    offline: newSid(SidPrefix.activity),
    available: newSid(SidPrefix.activity),
    unavailable: newSid(SidPrefix.activity),
    voice: newSid(SidPrefix.taskChannel),
    sms: newSid(SidPrefix.taskChannel),
  };
  await tx(async (t) => {
    await t.insertWorkspace({
      sid: w.sid,
      accountSid: account,
      friendlyName: name,
      eventCallbackUrl: null,
      eventsFilter: null,
      multiTaskEnabled: true,
      prioritizeQueueOrder: 'FIFO',
      defaultActivitySid: w.offline,
      timeoutActivitySid: w.offline,
      now: T0,
    });
    const acts: [string, string, boolean][] = [
      [w.offline, 'Offline', false],
      [w.available, 'Available', true],
      [w.unavailable, 'Unavailable', false],
    ];
    for (const [sid, friendlyName, available] of acts) {
      await t.insertActivity({
        sid,
        accountSid: account,
        workspaceSid: w.sid,
        friendlyName,
        available,
        now: T0,
      });
    }
    for (const [sid, uniqueName] of [
      [w.voice, 'voice'],
      [w.sms, 'sms'],
    ] as const) {
      await t.insertTaskChannel({
        sid,
        accountSid: account,
        workspaceSid: w.sid,
        uniqueName,
        friendlyName: uniqueName.toUpperCase(),
        channelOptimizedRouting: false,
        now: T0,
      });
    }
  });
  return w;
}

function newWorker(w: Ws, friendlyName: string, activitySid = w.offline): NewWorker {
  return {
    sid: newSid(SidPrefix.worker),
    accountSid: account,
    workspaceSid: w.sid,
    friendlyName,
    activitySid,
    attributes: '{"skills":["en"]}',
    now: T0,
  };
}

async function addWorker(w: Ws, friendlyName: string, activitySid = w.offline): Promise<string> {
  const k = newWorker(w, friendlyName, activitySid);
  await tx((t) => t.insertWorker(k, CHANNEL));
  return k.sid;
}

const ALL: PageQuery = { pageSize: 1000, page: 0 };

/** Counts per activity recomputed from the workers and their channels, the slow way. */
async function recount(w: Ws, channelSid?: string): Promise<ActivityCount[]> {
  const activities = (await store.listActivities(w.sid, {}, ALL)).items;
  const workers = (await store.listWorkers(w.sid, {}, ALL)).items;
  const counted = new Map<string, number>();
  for (const k of workers) {
    if (channelSid !== undefined) {
      const c = (await store.listWorkerChannels(k.sid, ALL)).items.find(
        (x) => x.taskChannelSid === channelSid,
      );
      if (!c || !c.available || c.capacity <= 0) continue;
    }
    counted.set(k.activitySid, (counted.get(k.activitySid) ?? 0) + 1);
  }
  return activities.map((a) => ({
    activitySid: a.sid,
    friendlyName: a.friendlyName,
    workers: counted.get(a.sid) ?? 0,
  }));
}

async function expectCountsExact(w: Ws): Promise<void> {
  expect(await store.activityCounts(w.sid)).toEqual(await recount(w));
  for (const c of [w.voice, w.sms]) {
    if (await store.getTaskChannel(w.sid, c)) {
      expect(await store.activityCounts(w.sid, c)).toEqual(await recount(w, c));
    }
  }
}

const workers = (counts: ActivityCount[]) => counts.map((c) => c.workers);

describe(`Store contract (${testBackend()})`, () => {
  it('has the dialect of its backend', () => {
    expect(store.dialect).toBe(testBackend());
  });

  it('upserts and reads accounts', async () => {
    const sid = newSid(SidPrefix.account);
    expect(await store.getAccount(sid)).toBeNull();
    await tx((t) => t.upsertAccount({ sid, authToken: 'token-one' }, T0));
    expect(await store.getAccount(sid)).toEqual({ sid, authToken: 'token-one' });
    await tx((t) => t.upsertAccount({ sid, authToken: 'token-two' }, T1));
    expect(await store.getAccount(sid)).toEqual({ sid, authToken: 'token-two' });
  });

  it('inserts, reads, lists, updates and deletes workspaces', async () => {
    const w = await makeWorkspace('Contract');
    const ws = await store.getWorkspace(account, w.sid);
    expect(ws).toEqual({
      sid: w.sid,
      accountSid: account,
      friendlyName: 'Contract',
      eventCallbackUrl: null,
      eventsFilter: null,
      multiTaskEnabled: true,
      prioritizeQueueOrder: 'FIFO',
      defaultActivitySid: w.offline,
      defaultActivityName: 'Offline',
      timeoutActivitySid: w.offline,
      timeoutActivityName: 'Offline',
      dateCreated: T0,
      dateUpdated: T0,
    });
    expect(await store.getWorkspace(newSid(SidPrefix.account), w.sid)).toBeNull();
    expect(await store.hasWorkspace(account, w.sid)).toBe(true);
    expect(await store.hasWorkspace(newSid(SidPrefix.account), w.sid)).toBe(false);
    expect(await tx((t) => t.hasWorkspace(account, w.sid))).toBe(true);
    const listed = await store.listWorkspaces(account, { friendlyName: 'Contract' }, ALL);
    expect(listed.items.map((x) => x.sid)).toEqual([w.sid]);

    await tx((t) =>
      t.updateWorkspace(
        w.sid,
        {
          friendlyName: 'Renamed',
          eventCallbackUrl: 'https://example.com/cb',
          timeoutActivitySid: w.unavailable,
        },
        T1,
      ),
    );
    expect(await store.getWorkspace(account, w.sid)).toMatchObject({
      friendlyName: 'Renamed',
      eventCallbackUrl: 'https://example.com/cb',
      eventsFilter: null,
      multiTaskEnabled: true,
      timeoutActivitySid: w.unavailable,
      timeoutActivityName: 'Unavailable',
      dateCreated: T0,
      dateUpdated: T1,
    });
    await tx((t) => t.updateWorkspace(w.sid, { eventCallbackUrl: null, multiTaskEnabled: false }, T1));
    expect(await store.getWorkspace(account, w.sid)).toMatchObject({
      friendlyName: 'Renamed',
      eventCallbackUrl: null,
      multiTaskEnabled: false,
    });

    const k = await addWorker(w, 'Gone with the workspace', w.available);
    await tx((t) => t.deleteWorkspace(w.sid));
    expect(await store.getWorkspace(account, w.sid)).toBeNull();
    expect(await store.hasWorkspace(account, w.sid)).toBe(false);
    // The rest goes a batch at a time.
    const [reclaim] = (await store.pendingReclaims()).filter((r) => r.sid === w.sid);
    expect(reclaim).toMatchObject({ kind: 'workspace' });
    while (await tx((t) => t.reclaimBatch(reclaim!, 1)));
    expect((await store.pendingReclaims()).filter((r) => r.sid === w.sid)).toEqual([]);
    expect(await store.getActivity(w.sid, w.offline)).toBeNull();
    expect(await store.getTaskChannel(w.sid, 'voice')).toBeNull();
    expect(await store.getWorker(w.sid, k)).toBeNull();
    expect((await store.listWorkerChannels(k, ALL)).items).toEqual([]);
    expect(await store.activityCounts(w.sid)).toEqual([]);
  });

  it('keeps activity names unique case-insensitively and filters activities', async () => {
    const w = await makeWorkspace();
    const dup = tx((t) =>
      t.insertActivity({
        sid: newSid(SidPrefix.activity),
        accountSid: account,
        workspaceSid: w.sid,
        friendlyName: 'AVAILABLE',
        available: true,
        now: T0,
      }),
    );
    await expect(dup).rejects.toBeInstanceOf(ConflictError);
    await expect(tx((t) => t.updateActivity(w.unavailable, 'offline', T1))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await tx((t) => t.updateActivity(w.unavailable, 'On Break', T1));
    expect(await store.getActivity(w.sid, w.unavailable)).toMatchObject({
      friendlyName: 'On Break',
      available: false,
      dateCreated: T0,
      dateUpdated: T1,
    });
    expect(
      (await store.listActivities(w.sid, { friendlyName: 'on break' }, ALL)).items.map((a) => a.sid),
    ).toEqual([w.unavailable]);
    expect((await store.listActivities(w.sid, { available: true }, ALL)).items.map((a) => a.sid)).toEqual([
      w.available,
    ]);
    expect(
      (await store.listActivities(w.sid, { available: false }, ALL)).items.map((a) => a.friendlyName),
    ).toEqual(['Offline', 'On Break']);
    expect(await store.getActivity(newSid(SidPrefix.workspace), w.offline)).toBeNull();

    await tx((t) => t.deleteActivity(w.unavailable));
    expect(await store.getActivity(w.sid, w.unavailable)).toBeNull();
    expect((await store.activityCounts(w.sid)).map((c) => c.friendlyName)).toEqual(['Offline', 'Available']);
  });

  it('manages task channels and gives every worker a channel for each', async () => {
    const w = await makeWorkspace();
    const k = await addWorker(w, 'Early', w.available);
    expect((await store.listWorkerChannels(k, ALL)).items.map((c) => c.taskChannelUniqueName)).toEqual([
      'voice',
      'sms',
    ]);
    const chat = newSid(SidPrefix.taskChannel);
    await tx((t) =>
      t.insertTaskChannel({
        sid: chat,
        accountSid: account,
        workspaceSid: w.sid,
        uniqueName: 'chat',
        friendlyName: 'Chat',
        channelOptimizedRouting: true,
        now: T0,
      }),
    );
    const dup = tx((t) =>
      t.insertTaskChannel({
        sid: newSid(SidPrefix.taskChannel),
        accountSid: account,
        workspaceSid: w.sid,
        uniqueName: 'chat',
        friendlyName: 'Chat again',
        channelOptimizedRouting: false,
        now: T0,
      }),
    );
    await expect(dup).rejects.toBeInstanceOf(ConflictError);

    expect(await store.getTaskChannel(w.sid, 'chat')).toMatchObject({
      sid: chat,
      channelOptimizedRouting: true,
    });
    expect(await store.getTaskChannel(w.sid, chat)).toMatchObject({
      uniqueName: 'chat',
      friendlyName: 'Chat',
    });
    expect(await store.getTaskChannel(w.sid, 'CHAT')).toBeNull();
    // A new task channel gives every worker a channel with the defaults, and stores no row.
    const wc = await store.getWorkerChannel(k, 'chat');
    expect(wc).toMatchObject({
      workerSid: k,
      taskChannelSid: chat,
      taskChannelUniqueName: 'chat',
      capacity: 1,
      available: true,
      assignedTasks: 0,
      dateCreated: T0,
      dateUpdated: T0,
    });
    expect(wc!.sid).toMatch(/^WC[0-9a-f]{32}$/);
    expect(await store.getWorkerChannel(k, wc!.sid)).toEqual(wc);
    expect(await store.getWorkerChannel(k, chat)).toEqual(wc);
    // Its SID stays the same once it is stored.
    await tx((t) => t.updateWorkerChannel(wc!, { capacity: 2, available: false }, T1));
    const changed = await store.getWorkerChannel(k, wc!.sid);
    expect(changed).toEqual({ ...wc, capacity: 2, available: false, dateUpdated: T1 });
    expect((await store.listWorkerChannels(k, ALL)).items.map((c) => c.sid)).toContain(wc!.sid);
    // Another worker's channel for it has another SID.
    const other = await addWorker(w, 'Other', w.available);
    expect((await store.getWorkerChannel(other, 'chat'))!.sid).not.toBe(wc!.sid);
    expect(await store.getWorkerChannel(other, wc!.sid)).toBeNull();

    await tx((t) =>
      t.updateTaskChannel(chat, { friendlyName: 'Web chat', channelOptimizedRouting: false }, T1),
    );
    expect(await store.getTaskChannel(w.sid, chat)).toMatchObject({
      friendlyName: 'Web chat',
      channelOptimizedRouting: false,
      dateUpdated: T1,
    });
    expect((await store.listTaskChannels(w.sid, ALL)).items.map((c) => c.uniqueName)).toEqual([
      'voice',
      'sms',
      'chat',
    ]);

    await tx((t) => t.deleteTaskChannel(chat));
    expect(await store.getTaskChannel(w.sid, chat)).toBeNull();
    expect(await store.getWorkerChannel(k, 'chat')).toBeNull();
    expect((await store.listWorkerChannels(k, ALL)).items).toHaveLength(2);
    await expectCountsExact(w);
  });

  it('inserts, filters, updates and deletes workers, keeping names unique case-insensitively', async () => {
    const w = await makeWorkspace();
    const alice = await addWorker(w, 'Alice', w.available);
    const bob = await addWorker(w, 'Bob');
    await expect(tx((t) => t.insertWorker(newWorker(w, 'ALICE'), CHANNEL))).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(tx((t) => t.updateWorker(bob, { friendlyName: 'alice' }, T1))).rejects.toBeInstanceOf(
      ConflictError,
    );

    expect(await store.getWorker(w.sid, alice)).toEqual({
      sid: alice,
      accountSid: account,
      workspaceSid: w.sid,
      friendlyName: 'Alice',
      activitySid: w.available,
      activityName: 'Available',
      available: true,
      attributes: '{"skills":["en"]}',
      version: 0,
      dateCreated: T0,
      dateUpdated: T0,
      dateStatusChanged: T0,
    });
    expect(await store.getWorker(newSid(SidPrefix.workspace), alice)).toBeNull();

    const names = async (filter: Parameters<Store['listWorkers']>[1]) =>
      (await store.listWorkers(w.sid, filter, ALL)).items.map((k) => k.friendlyName);
    expect(await names({})).toEqual(['Alice', 'Bob']);
    expect(await names({ activitySid: w.offline })).toEqual(['Bob']);
    expect(await names({ activityName: 'AVAILABLE' })).toEqual(['Alice']);
    expect(await names({ available: false })).toEqual(['Bob']);
    expect(await names({ friendlyName: 'bob' })).toEqual(['Bob']);
    expect(await names({ friendlyName: 'b%' })).toEqual([]);

    await tx((t) => t.updateWorker(bob, { attributes: '{"x":1}' }, T1));
    expect(await store.getWorker(w.sid, bob)).toMatchObject({
      attributes: '{"x":1}',
      version: 1,
      dateUpdated: T1,
      dateStatusChanged: T0,
    });
    const T2 = new Date('2024-01-02T03:06:00Z');
    await tx((t) => t.updateWorker(bob, { activitySid: w.available, friendlyName: 'Robert' }, T2));
    expect(await store.getWorker(w.sid, bob)).toMatchObject({
      friendlyName: 'Robert',
      activitySid: w.available,
      activityName: 'Available',
      available: true,
      version: 2,
      dateStatusChanged: T2,
    });
    // A patch of values the worker has already changes nothing: not the version, not date_updated.
    expect(
      await tx((t) => t.updateWorker(bob, { activitySid: w.available, friendlyName: 'Robert' }, T1)),
    ).toBeNull();
    expect(await store.getWorker(w.sid, bob)).toMatchObject({
      version: 2,
      dateUpdated: T2,
      dateStatusChanged: T2,
    });
    await tx((t) => t.updateWorker(bob, { activitySid: w.available, attributes: '{"x":2}' }, T1));
    expect(await store.getWorker(w.sid, bob)).toMatchObject({
      version: 3,
      dateUpdated: T1,
      dateStatusChanged: T2,
    });

    await tx((t) => t.deleteWorker(alice));
    expect(await store.getWorker(w.sid, alice)).toBeNull();
    expect((await store.listWorkerChannels(alice, ALL)).items).toEqual([]);
    // The name is free again.
    await addWorker(w, 'alice');
    await expectCountsExact(w);
  });

  it('returns the updated worker as getWorker reads it, in the same transaction', async () => {
    const w = await makeWorkspace();
    const k = await addWorker(w, 'Returned');
    const T2 = new Date('2024-01-02T03:06:00Z');
    const cases: [Parameters<StoreTx['updateWorker']>[1], Date][] = [
      [{ activitySid: w.available }, T1], // moves: date_status_changed too
      [{ attributes: '{"a":1}', friendlyName: 'Renamed' }, T2], // stays
      [{ activitySid: w.available, attributes: '{"a":2}' }, T2], // the same activity: stays
      [{ activitySid: w.unavailable, attributes: '{}' }, T2],
    ];
    let was = await store.getWorker(w.sid, k);
    for (const [patch, now] of cases) {
      const [updated, read] = await tx(async (t) => [
        await t.updateWorker(k, patch, now),
        await t.getWorker(w.sid, k),
      ]);
      const { previous, ...returned } = updated as NonNullable<typeof updated> & { previous: unknown };
      expect(returned).toEqual(read);
      expect(returned).toEqual(await store.getWorker(w.sid, k));
      // With the activity it was in before (worker.activity.update says it).
      expect(previous).toEqual({
        activitySid: was!.activitySid,
        activityName: was!.activityName,
        dateStatusChanged: was!.dateStatusChanged,
      });
      was = read as typeof was;
    }
    expect(await store.getWorker(w.sid, k)).toMatchObject({
      friendlyName: 'Renamed',
      activitySid: w.unavailable,
      activityName: 'Unavailable',
      available: false,
      version: 4,
      dateUpdated: T2,
      dateStatusChanged: T2,
    });
    expect(await tx((t) => t.updateWorker(newSid(SidPrefix.worker), { attributes: '{}' }, T1))).toBeNull();
    const before = await store.getWorker(w.sid, k);
    expect(
      await tx((t) => t.updateWorker(k, { activitySid: w.unavailable, attributes: '{}' }, T1)),
    ).toBeNull();
    expect(await store.getWorker(w.sid, k)).toEqual(before);
    await expectCountsExact(w);
  });

  it('changes a worker within a scope only when every check of an update holds', async () => {
    const w = await makeWorkspace();
    const theirs = await makeWorkspace('Other');
    const k = await addWorker(w, 'Scoped');
    const scope = { accountSid: account, workspaceSid: w.sid };
    const before = await store.getWorker(w.sid, k);
    const refused: [string, Parameters<StoreTx['updateWorker']>[1], typeof scope][] = [
      [k, { activitySid: w.available }, { ...scope, accountSid: newSid(SidPrefix.account) }], // not theirs
      [k, { activitySid: theirs.available }, { ...scope, workspaceSid: theirs.sid }], // not in it
      [k, { activitySid: theirs.available }, scope], // another workspace's activity
      [k, { activitySid: newSid(SidPrefix.activity) }, scope], // no such activity
      [newSid(SidPrefix.worker), { attributes: '{}' }, scope], // no such worker
    ];
    for (const [sid, patch, s] of refused) {
      expect(await tx((t) => t.updateWorker(sid, patch, T1, s))).toBeNull();
    }
    expect(await store.getWorker(w.sid, k)).toEqual(before);
    const moved = await tx((t) => t.updateWorker(k, { activitySid: w.available }, T1, scope));
    expect({ ...moved, previous: undefined }).toEqual({
      ...(await store.getWorker(w.sid, k)),
      previous: undefined,
    });
    expect(moved).toMatchObject({ activitySid: w.available, version: before!.version + 1 });
    expect(await tx((t) => t.updateWorker(k, { attributes: '{"b":2}' }, T1, scope))).toMatchObject({
      attributes: '{"b":2}',
      activitySid: w.available,
    });
    await expectCountsExact(w);
    await expectCountsExact(theirs);
  });

  it('keeps the statistics exact through every kind of write', async () => {
    const w = await makeWorkspace();
    const ks: string[] = [];
    for (let i = 0; i < 6; i++)
      ks.push(await addWorker(w, `K${i}`, [w.offline, w.available, w.unavailable][i % 3]));
    expect(workers(await store.activityCounts(w.sid))).toEqual([2, 2, 2]);
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([2, 2, 2]);
    await expectCountsExact(w);

    // Channel availability and capacity.
    const v0 = (await store.getWorkerChannel(ks[0]!, 'voice'))!;
    await tx((t) => t.updateWorkerChannel(v0, { available: false }, T1));
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([1, 2, 2]);
    expect(workers(await store.activityCounts(w.sid, w.sms))).toEqual([2, 2, 2]);
    const v1 = (await store.getWorkerChannel(ks[1]!, 'voice'))!;
    await tx((t) => t.updateWorkerChannel(v1, { capacity: 0 }, T1));
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([1, 1, 2]);
    await tx((t) => t.updateWorkerChannel(v1, { capacity: 3 }, T1));
    await tx((t) => t.updateWorkerChannel(v1, { capacity: 2, available: true }, T1));
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([1, 2, 2]);
    expect(await store.getWorkerChannel(ks[1]!, 'voice')).toMatchObject({
      capacity: 2,
      available: true,
      dateUpdated: T1,
    });

    // Moves, with and without counted channels.
    await tx((t) => t.updateWorker(ks[0]!, { activitySid: w.available }, T1));
    expect(workers(await store.activityCounts(w.sid))).toEqual([1, 3, 2]);
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([1, 2, 2]);
    expect(workers(await store.activityCounts(w.sid, w.sms))).toEqual([1, 3, 2]);
    await tx((t) => t.updateWorkerChannel(v0, { available: true }, T1));
    expect(workers(await store.activityCounts(w.sid, w.voice))).toEqual([1, 3, 2]);

    // Deletes.
    await tx((t) => t.deleteWorker(ks[2]!));
    expect(workers(await store.activityCounts(w.sid))).toEqual([1, 3, 1]);
    // A deleted task channel is gone at once; a worker channel row of it left behind (here one
    // that is unavailable) never counts elsewhere, and is reclaimed later.
    const s1 = (await store.getWorkerChannel(ks[1]!, 'sms'))!;
    await tx((t) => t.updateWorkerChannel(s1, { available: false }, T1));
    expect(workers(await store.activityCounts(w.sid, w.sms))).toEqual([1, 2, 1]);
    await tx((t) => t.deleteTaskChannel(w.sms));
    expect(await store.getTaskChannel(w.sid, w.sms)).toBeNull();
    expect(await store.getWorkerChannel(ks[1]!, 'sms')).toBeNull();
    await tx((t) => t.updateWorker(ks[1]!, { activitySid: w.offline }, T1));
    await expectCountsExact(w);
    const [reclaim] = (await store.pendingReclaims()).filter((r) => r.sid === w.sms);
    expect(reclaim).toMatchObject({ kind: 'task_channel' });
    while (await tx((t) => t.reclaimBatch(reclaim!, 1)));
    expect((await store.pendingReclaims()).filter((r) => r.sid === w.sms)).toEqual([]);
    await expectCountsExact(w);
    expect((await store.activityCounts(w.sid)).map((c) => c.friendlyName)).toEqual([
      'Offline',
      'Available',
      'Unavailable',
    ]);
  });

  it('bulk-inserts workers with their channels and exact counts', async () => {
    const w = await makeWorkspace();
    const batch = Array.from({ length: 40 }, (_, i) =>
      newWorker(w, `Bulk ${i}`, [w.offline, w.available, w.unavailable][i % 3]),
    );
    await tx((t) =>
      t.insertWorkers(w.sid, batch, (k, c) => ({
        capacity: c.sid === w.voice ? 1 : 0,
        available: Number(k.friendlyName.split(' ')[1]) % 2 === 0,
      })),
    );
    expect(workers(await store.activityCounts(w.sid))).toEqual([14, 13, 13]);
    expect(workers(await store.activityCounts(w.sid, w.sms))).toEqual([0, 0, 0]);
    await expectCountsExact(w);
    expect(
      (await store.listWorkers(w.sid, {}, { pageSize: 3, page: 0 })).items.map((k) => k.friendlyName),
    ).toEqual(['Bulk 0', 'Bulk 1', 'Bulk 2']);
    const dup = tx((t) => t.insertWorkers(w.sid, [newWorker(w, 'bulk 7')], () => CHANNEL));
    await expect(dup).rejects.toBeInstanceOf(ConflictError);
    expect(workers(await store.activityCounts(w.sid))).toEqual([14, 13, 13]);
  });

  it('pages in creation order with opaque tokens both ways', async () => {
    const w = await makeWorkspace();
    const sids: string[] = [];
    for (let i = 0; i < 7; i++) sids.push(await addWorker(w, `P${i}`));
    const page = (q: Partial<PageQuery>) => store.listWorkers(w.sid, {}, { pageSize: 3, page: 0, ...q });
    const ids = (p: Page<{ sid: string }>) => p.items.map((k) => k.sid);

    const first = await page({});
    expect(ids(first)).toEqual(sids.slice(0, 3));
    expect(first.previousPageToken).toBeNull();
    expect(first.nextPageToken).toMatch(/^PA[0-9a-z]+$/);
    const second = await page({ page: 1, pageToken: first.nextPageToken! });
    expect(ids(second)).toEqual(sids.slice(3, 6));
    const third = await page({ page: 2, pageToken: second.nextPageToken! });
    expect(ids(third)).toEqual(sids.slice(6));
    expect(third.nextPageToken).toBeNull();
    const back = await page({ page: 1, pageToken: third.previousPageToken! });
    expect(ids(back)).toEqual(sids.slice(3, 6));
    const start = await page({ pageToken: back.previousPageToken! });
    expect(ids(start)).toEqual(sids.slice(0, 3));
    expect(start.previousPageToken).toBeNull();
    expect(ids(await page({ page: 2 }))).toEqual(sids.slice(6));
    expect((await page({ page: 5 })).items).toEqual([]);
    await expect(page({ pageToken: 'nonsense' })).rejects.toBeInstanceOf(InvalidParameterError);
  });

  it('runs commit effects after commit only, and rolls back everything on failure', async () => {
    const w = await makeWorkspace();
    const effects: string[] = [];
    const failing = tx(async (t) => {
      await t.insertWorker(newWorker(w, 'Rolled back', w.available), CHANNEL);
      t.onCommit(() => effects.push('rolled back'));
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(effects).toEqual([]);
    expect((await store.listWorkers(w.sid, {}, ALL)).items).toEqual([]);
    expect(workers(await store.activityCounts(w.sid))).toEqual([0, 0, 0]);

    let seenInside: number | undefined;
    const result = await tx(async (t) => {
      const k = newWorker(w, 'Kept', w.available);
      await t.insertWorker(k, CHANNEL);
      seenInside = workers(await t.activityCounts(w.sid))[1];
      t.onCommit(() => effects.push('committed'));
      expect(effects).toEqual([]);
      return k.sid;
    });
    expect(seenInside).toBe(1);
    expect(effects).toEqual(['committed']);
    expect(await store.getWorker(w.sid, result)).not.toBeNull();
  });

  it('stores unusual strings verbatim', async () => {
    const w = await makeWorkspace();
    const names = ['O\'Brien"; DROP TABLE workers;--', 'nul\u0000byte', 'soh\u0001\u0002x', '名前 😀', '%_'];
    for (const name of names) {
      const sid = await addWorker(w, name);
      expect((await store.getWorker(w.sid, sid))!.friendlyName).toBe(name);
      expect((await store.listWorkers(w.sid, { friendlyName: name }, ALL)).items.map((k) => k.sid)).toEqual([
        sid,
      ]);
    }
    expect((await store.listWorkers(w.sid, { friendlyName: 'nul' }, ALL)).items).toEqual([]);
  });
});
