import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { EventRetention } from '../../src/events/retention.js';
import type { NewDomainEvent, Store } from '../../src/services/ports/store.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/** Retention: events past ROSTER_EVENT_RETENTION_DAYS go (with their deliveries); the rest stay. */
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
let dir: string;
let store: Store;
const ws = newSid(SidPrefix.workspace);
const clock = new ManualClock(T0);

const event = (timeMs: number, i: number): NewDomainEvent => ({
  type: 'worker.activity.update',
  accountSid: newSid(SidPrefix.account),
  workspaceSid: ws,
  resourceType: 'Worker',
  resourceSid: newSid(SidPrefix.worker),
  actor: 'system',
  timeMs,
  data: { n: i },
});

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-retention-'));
  store = openTestStore(dir);
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe(`event retention (${testBackend()})`, () => {
  it('deletes events older than the retention, in batches, at start and then on the clock', async () => {
    // 2,500 events a day old and older, then 10 recent ones.
    const old = Array.from({ length: 2_500 }, (_, i) => event(T0 + i, i));
    const recent = Array.from({ length: 10 }, (_, i) => event(T0 + 40 * DAY + i, i));
    await store.transaction((tx) => tx.appendEvents(old));
    await store.transaction((tx) => tx.appendEvents(recent));
    await store.transaction((tx) => tx.queueDeliveries(ws, 'http://127.0.0.1:1/x', T0, T0 + 5, T0));
    clock.advance(40 * DAY + 100);

    const retention = new EventRetention({ store, clock }, { days: 30, everyMs: 30 * DAY });
    expect(await retention.runOnce()).toBe(2_500);
    const left = await store.listEvents(ws, 0, 100);
    expect(left.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await store.countDeliveries()).toEqual({ pending: 0, failed: 0 });
    expect(await retention.runOnce()).toBe(0);

    // Started, it runs at once, then every `everyMs` of the clock: 30 days on, the recent ones
    // are past retention too.
    retention.start();
    clock.advance(0);
    await retention.idle();
    expect(await store.listEvents(ws, 0, 100)).toHaveLength(10);
    clock.advance(30 * DAY);
    await retention.idle();
    expect(await store.listEvents(ws, 0, 100)).toHaveLength(0);
    await retention.stop();
  });
});
