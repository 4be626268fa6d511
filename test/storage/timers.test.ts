import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import type { Store, Timer } from '../../src/services/ports/store.js';
import { TimerService } from '../../src/timers/timer-service.js';
import { openTestStore } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * Durable timers with a manual clock: a timer fires once, at its time; one that came due
 * while nothing ran fires when the service starts again; a firing that fails rolls back and
 * is tried again; and two nodes on one database fire each timer once between them.
 */
const T0 = Date.parse('2025-01-01T00:00:00Z');
const dirs: string[] = [];
const open: Store[] = [];

afterAll(async () => {
  for (const s of open) await s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'roster-timers-'));
  dirs.push(dir);
  return dir;
}

function openStore(dir: string): Store {
  const store = openTestStore(dir);
  open.push(store);
  return store;
}

/** A timer service whose handler records each firing (once its transaction commits) and the clock's time then. */
function node(store: Store, clock: ManualClock) {
  const fired: { timer: Timer; at: number }[] = [];
  const timers = new TimerService({ store, clock });
  timers.on('test.timeout', async (tx, timer) => {
    const at = clock.now();
    tx.onCommit(() => fired.push({ timer, at }));
  });
  return { timers, fired };
}

const timer = (workspaceSid: string, dueAtMs: number) => ({
  workspaceSid,
  kind: 'test.timeout',
  resourceSid: newSid(SidPrefix.worker),
  dueAtMs,
});

describe(`durable timers (${testBackend()})`, () => {
  it('fire once, at their time, and can be moved or cancelled', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(newDir());
    const { timers, fired } = node(store, clock);
    const ws = newSid(SidPrefix.workspace);
    const [a, b, c] = [timer(ws, T0 + 10_000), timer(ws, T0 + 20_000), timer(ws, T0 + 30_000)];
    await timers.start();
    await store.transaction(async (tx) => {
      await timers.schedule(tx, a);
      await timers.schedule(tx, b);
      await timers.schedule(tx, c);
    });
    await store.transaction(async (tx) => {
      await timers.schedule(tx, { ...b, dueAtMs: T0 + 15_000 }); // moved earlier
      await timers.cancel(tx, c.kind, c.resourceSid);
    });

    clock.advance(9_999);
    await timers.idle();
    expect(fired).toEqual([]);
    clock.advance(1);
    await timers.idle();
    expect(fired.map((f) => [f.timer.resourceSid, f.at])).toEqual([[a.resourceSid, T0 + 10_000]]);

    clock.advance(5_000);
    await timers.idle();
    clock.advance(60_000);
    await timers.idle();
    expect(fired.map((f) => [f.timer.resourceSid, f.at])).toEqual([
      [a.resourceSid, T0 + 10_000],
      [b.resourceSid, T0 + 15_000],
    ]);
    expect(await store.nextTimerDue()).toBeNull();
    await timers.stop();
  });

  it('fire on start what came due while stopped, and only once across restarts', async () => {
    const dir = newDir();
    const clock = new ManualClock(T0);
    const first = openStore(dir);
    const before = node(first, clock);
    const due = timer(newSid(SidPrefix.workspace), T0 + 5_000);
    await first.transaction((tx) => before.timers.schedule(tx, due));
    await first.close();
    open.splice(open.indexOf(first), 1);

    clock.advance(60_000); // nothing runs while Roster is down
    expect(before.fired).toEqual([]);

    const second = openStore(dir);
    const after = node(second, clock);
    await after.timers.start();
    expect(after.fired.map((f) => f.timer.resourceSid)).toEqual([due.resourceSid]);
    await after.timers.stop();

    const third = node(second, clock);
    await third.timers.start();
    expect(third.fired).toEqual([]);
    await third.timers.stop();
  });

  it('roll a failed firing back and fire it again later', async () => {
    const clock = new ManualClock(T0);
    const store = openStore(newDir());
    const errors: unknown[] = [];
    const timers = new TimerService({ store, clock }, { retryMs: 2_000, onError: (e) => errors.push(e) });
    let attempts = 0;
    const fired: string[] = [];
    timers.on('test.timeout', async (tx, t) => {
      if (++attempts === 1) throw new Error('not now');
      tx.onCommit(() => fired.push(t.resourceSid));
    });
    const due = timer(newSid(SidPrefix.workspace), T0 + 1_000);
    await store.transaction((tx) => timers.schedule(tx, due));
    await timers.start();
    clock.advance(1_000);
    await timers.idle();
    expect(errors.map((e) => (e as Error).message)).toEqual(['not now']);
    expect(fired).toEqual([]);
    expect(await store.nextTimerDue()).toBe(T0 + 1_000);
    clock.advance(2_000);
    await timers.idle();
    expect(fired).toEqual([due.resourceSid]);
    await timers.stop();
  });

  it('fire each timer on exactly one of two nodes sharing the database', async () => {
    const dir = newDir();
    const clock = new ManualClock(T0);
    const one = node(openStore(dir), clock);
    const other = node(openStore(dir), clock);
    const ws = newSid(SidPrefix.workspace);
    const all = Array.from({ length: 40 }, (_, i) => timer(ws, T0 + (i % 4) * 100));
    await open.at(-1)!.transaction(async (tx) => {
      for (const t of all) await tx.scheduleTimer(t);
    });
    clock.advance(1_000);
    const counts = await Promise.all([one.timers.fireDue(), other.timers.fireDue()]);
    const fired = [...one.fired, ...other.fired].map((f) => f.timer.resourceSid);
    expect(counts[0] + counts[1]).toBe(all.length);
    expect(fired.sort()).toEqual(all.map((t) => t.resourceSid).sort());
  });

  it('fire within the poll bound on a node that did not schedule them, once the one that did is gone', async () => {
    const dir = newDir();
    const clock = new ManualClock(T0);
    const scheduler = node(openStore(dir), clock);
    const survivor = node(openStore(dir), clock);
    await scheduler.timers.start();
    await survivor.timers.start();
    const due = timer(newSid(SidPrefix.workspace), T0 + 10_000);
    await open.at(-2)!.transaction((tx) => scheduler.timers.schedule(tx, due));
    await scheduler.timers.stop(); // the node that scheduled it goes away before it is due

    // The survivor never heard of the timer: it finds it by looking at the table, at least every 100 ms.
    while (survivor.fired.length === 0 && clock.now() < T0 + 20_000) {
      clock.advance(10);
      await survivor.timers.idle();
    }
    expect(survivor.fired.map((f) => f.timer.resourceSid)).toEqual([due.resourceSid]);
    const late = survivor.fired[0]!.at - due.dueAtMs;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThanOrEqual(100);
    expect(scheduler.fired).toEqual([]);
    await survivor.timers.stop();
  });

  it('fire each timer once between two running nodes that both wake for it', async () => {
    const dir = newDir();
    const clock = new ManualClock(T0);
    const one = node(openStore(dir), clock);
    const other = node(openStore(dir), clock);
    await one.timers.start();
    await other.timers.start();
    const ws = newSid(SidPrefix.workspace);
    const all = Array.from({ length: 30 }, (_, i) => timer(ws, T0 + 1_000 + (i % 5) * 250));
    // Half scheduled on each node, so each wakes by its own and finds the other's by polling.
    await open.at(-2)!.transaction(async (tx) => {
      for (const t of all.slice(0, 15)) await one.timers.schedule(tx, t);
    });
    await open.at(-1)!.transaction(async (tx) => {
      for (const t of all.slice(15)) await other.timers.schedule(tx, t);
    });
    for (let step = 0; step < 40; step++) {
      clock.advance(50);
      await Promise.all([one.timers.idle(), other.timers.idle()]);
    }
    const fired = [...one.fired, ...other.fired];
    expect(fired.map((f) => f.timer.resourceSid).sort()).toEqual(all.map((t) => t.resourceSid).sort());
    for (const f of fired) expect(f.at - f.timer.dueAtMs).toBeLessThanOrEqual(100);
    await one.timers.stop();
    await other.timers.stop();
  });
});
