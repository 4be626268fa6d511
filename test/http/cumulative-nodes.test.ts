import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { openPostgresTestStore, testBackend } from '../helpers/postgres.js';

/**
 * The roller on two PostgreSQL nodes (two stores on one schema): a roll waits for a transaction
 * still appending an event of a minute it rolls (so the event is in the rollups, not lost), and
 * two nodes rolling at once fold each minute once.
 */
const T0 = Date.UTC(2026, 3, 1, 10, 0, 0);
const account = newSid(SidPrefix.account);
let first: PostgresStore;
let second: PostgresStore;
let a: Services;
let b: Services;
const clock = new ManualClock(T0);

describe.skipIf(testBackend() !== 'postgres')('cumulative statistics on two PostgreSQL nodes', () => {
  beforeAll(async () => {
    first = openPostgresTestStore();
    second = openPostgresTestStore({ schema: first.schema });
    a = createServices(first, { clock });
    b = createServices(second, { clock });
    await a.accounts.ensure(account, newAuthToken());
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const created = (ws: string, timeMs: number) => ({
    type: 'task.created',
    accountSid: account,
    workspaceSid: ws,
    resourceType: 'Task',
    resourceSid: newSid(SidPrefix.task),
    actor: 'test',
    timeMs,
    data: { task_channel_sid: 'TC1' },
  });

  it('a roll waits for a transaction appending an event of the minutes it rolls; nodes take turns', async () => {
    const ws = (await a.workspaces.create(account, { friendlyName: 'nodes' })).sid;
    await a.statisticsRoller.rollOnce();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let appended!: () => void;
    const inserted = new Promise<void>((resolve) => (appended = resolve));
    const write = first.transaction(async (tx) => {
      await tx.appendEvent(created(ws, clock.now() + 1_000));
      appended();
      await gate;
    });
    await inserted;
    clock.advance(5 * 60_000);
    const roll = b.statisticsRoller.rollOnce();
    const early = await Promise.race([
      roll.then(() => 'rolled'),
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 300)),
    ]);
    expect(early).toBe('waiting');
    release();
    await write;
    expect(await roll).toBeGreaterThan(0);
    expect(await first.statisticsRolledUntil()).toBe(Math.floor((clock.now() - 5_000) / 60_000) * 60_000);
    const stats = await a.cumulativeStatistics.workspace(account, ws, { startDate: new Date(T0) });
    expect(stats.figures.tasksCreated).toBe(1);
    expect((await first.statisticsRollups([ws], undefined, 1, 0, 1e12)).length).toBe(1);

    // Both nodes at once: each minute is folded once (a second insert of a row would fail).
    for (let i = 0; i < 3; i++) {
      await first.transaction((tx) => tx.appendEvent(created(ws, clock.now())));
      clock.advance(60_000);
    }
    clock.advance(2 * 3_600_000);
    const [x, y] = await Promise.all([a.statisticsRoller.rollOnce(), b.statisticsRoller.rollOnce()]);
    expect(x === 0 || y === 0).toBe(true);
    const later = await b.cumulativeStatistics.workspace(account, ws, { startDate: new Date(T0) });
    expect(later.figures.tasksCreated).toBe(4);
    expect((await first.statisticsRollups([ws], undefined, 60, 0, 1e12)).length).toBeGreaterThan(0);
  });
});
