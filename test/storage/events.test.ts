import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { ConflictError } from '../../src/domain/errors.js';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { WorkspaceChange } from '../../src/services/ports/changes.js';
import type { NewDomainEvent, Store } from '../../src/services/ports/store.js';
import { eventIdOfSid, eventSid } from '../../src/storage/event-sids.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * The event log: each change appends its event in its own transaction; the events of a
 * commit are handed on after it (and become change notifications); a rolled-back write
 * leaves none.
 */
const START = Date.parse('2025-03-04T05:06:07.250Z');

let dir: string;
let store: Store;
let services: Services;
const clock = new ManualClock(START);
const account = newSid(SidPrefix.account);
const committed: NewDomainEvent[][] = [];
const changes: WorkspaceChange[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roster-events-'));
  store = openTestStore(dir);
  services = createServices(store, { clock });
  store.onEvents((events) => committed.push([...events]));
  services.changes.subscribe((c) => changes.push(c));
  await services.accounts.ensure(account, 'token-123456');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const typesOf = (events: readonly { type: string }[]) => events.map((e) => e.type);

describe(`the event log (${testBackend()})`, () => {
  it('appends each change with its type, resource, actor, clock time and data, and publishes it after commit', async () => {
    const ws = await services.workspaces.create(account, { friendlyName: 'Events' });
    const logged = await store.listEvents(ws.sid, 0, 100);
    expect(typesOf(logged)).toEqual([
      'workspace.created',
      ...Array<string>(3).fill('activity.created'),
      ...Array<string>(5).fill('task-channel.created'),
    ]);
    expect(logged[0]).toMatchObject({
      accountSid: account,
      workspaceSid: ws.sid,
      resourceType: 'Workspace',
      resourceSid: ws.sid,
      actor: account,
      timeMs: START,
      data: { friendly_name: 'Events' },
    });
    expect(typesOf(committed.at(-1)!)).toEqual(typesOf(logged));
    expect(changes.at(-1)).toEqual({ accountSid: account, workspaceSid: ws.sid, kind: 'updated' });

    const available = (
      await services.activities.list(account, ws.sid, { friendlyName: 'Available' }, { page: 0, pageSize: 1 })
    ).items[0]!;
    const worker = await services.workers.create(account, ws.sid, { friendlyName: 'Alice' });
    clock.advance(1_500);
    await services.workers.update(account, ws.sid, worker.sid, { activitySid: available.sid }, undefined);
    clock.advance(500);
    await services.workers.update(account, ws.sid, worker.sid, { attributes: '{"a":1}' }, '"1"');
    await services.workers.updateChannel(account, ws.sid, worker.sid, 'voice', { available: false });

    const after = await store.listEvents(ws.sid, logged.at(-1)!.id, 100);
    expect(typesOf(after)).toEqual([
      'worker.created',
      'worker.activity.update',
      'worker.attributes.update',
      'worker.channel.availability.update',
    ]);
    expect(after.map((e) => e.timeMs)).toEqual([START, START + 1_500, START + 2_000, START + 2_000]);
    expect(after[1]).toMatchObject({
      resourceType: 'Worker',
      resourceSid: worker.sid,
      data: { activity_sid: available.sid, activity_name: 'Available', version: 1 },
    });
    expect(after[2]!.data).toMatchObject({ attributes: '{"a":1}', version: 2 });
    expect(after[3]!.data).toMatchObject({ task_channel_unique_name: 'voice', channel_available: false });
    // Ids increase: the log is read in order.
    expect(after.map((e) => e.id)).toEqual([...after.map((e) => e.id)].sort((a, b) => a - b));

    await services.workspaces.remove(account, ws.sid);
    expect(typesOf(await store.listEvents(ws.sid, after.at(-1)!.id, 100))).toEqual(['workspace.deleted']);
    expect(changes.at(-1)).toEqual({ accountSid: account, workspaceSid: ws.sid, kind: 'deleted' });
  });

  it('keeps and publishes no event of a write that rolls back', async () => {
    const ws = await services.workspaces.create(account, { friendlyName: 'Rollback' });
    await services.workers.create(account, ws.sid, { friendlyName: 'Bob' });
    const before = await store.listEvents(ws.sid, 0, 100);
    const published = committed.length;
    const notified = changes.length;

    // A duplicate name fails after nothing else; a failure after an append takes the append along.
    await expect(services.workers.create(account, ws.sid, { friendlyName: 'bob' })).rejects.toThrow(
      ConflictError,
    );
    await expect(
      store.transaction(async (tx) => {
        await tx.appendEvent({
          type: 'worker.updated',
          accountSid: account,
          workspaceSid: ws.sid,
          resourceType: 'Worker',
          resourceSid: newSid(SidPrefix.worker),
          actor: account,
          timeMs: clock.now(),
          data: {},
        });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');

    expect(await store.listEvents(ws.sid, 0, 100)).toEqual(before);
    expect(committed.length).toBe(published);
    expect(changes.length).toBe(notified);
  });

  it('derives each SID from the log id: published, listed and fetched alike; a stored SID still found', async () => {
    const ws = await services.workspaces.create(account, { friendlyName: 'Sids' });
    const other = await services.workspaces.create(account, { friendlyName: 'Other' });
    const published = committed.length;
    const event = (workspaceSid: string, sid?: string): NewDomainEvent => ({
      type: 'worker.updated',
      accountSid: account,
      workspaceSid,
      resourceType: 'Worker',
      resourceSid: newSid(SidPrefix.worker),
      actor: account,
      timeMs: clock.now(),
      data: {},
      ...(sid === undefined ? {} : { sid }),
    });
    // As an event logged before migration 015 keeps its random SID.
    const stored = newSid(SidPrefix.event);
    await store.transaction(async (tx) => {
      await tx.appendEvent(event(ws.sid));
      await tx.appendEvents([event(ws.sid), event(ws.sid, stored), event(other.sid)]);
    });
    const sids = committed
      .slice(published)
      .flat()
      .map((e) => e.sid!);
    expect(sids).toHaveLength(4);
    expect(sids[2]).toBe(stored);
    expect(new Set(sids).size).toBe(4);
    for (const sid of sids) expect(sid).toMatch(/^EV[0-9a-f]{32}$/);

    const listed = (await store.listEvents(ws.sid, 0, 100)).slice(-3);
    expect(listed.map((e) => e.sid)).toEqual(sids.slice(0, 3));
    for (const e of listed) {
      expect(e.sid).toBe(e.id === listed[2]!.id ? stored : eventSid(e.id, ws.sid));
      expect(await store.getEvent(ws.sid, e.sid)).toEqual(e);
    }
    // Another workspace's event, and the same id under another workspace's key, are not found.
    const [own] = (await store.listEvents(other.sid, 0, 100)).slice(-1);
    expect(own!.sid).toBe(sids[3]);
    expect(await store.getEvent(ws.sid, own!.sid)).toBeNull();
    expect(await store.getEvent(ws.sid, eventSid(own!.id, other.sid))).toBeNull();
    expect(eventIdOfSid(eventSid(own!.id, other.sid), ws.sid)).toBeNull();
    expect(eventIdOfSid(own!.sid, other.sid)).toBe(own!.id);
    expect(await store.getEvent(ws.sid, newSid(SidPrefix.event))).toBeNull();
  });
});
