import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices } from '../../src/services/index.js';
import { openTestStore } from '../helpers/app.js';

const dir = mkdtempSync(join(tmpdir(), 'roster-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('routing timers across a restart', () => {
  it('a TTL and a reservation timeout due while Roster was down fire when it starts, once', async () => {
    const account = newSid(SidPrefix.account);
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
    let store = openTestStore(dir);
    let services = createServices(store, { clock });
    await services.accounts.ensure(account, newAuthToken());
    const ws = await services.workspaces.create(account, { friendlyName: 'Restart' });
    const queue = await services.taskQueues.create(account, ws.sid, { friendlyName: 'All' });
    await services.workflows.create(account, ws.sid, {
      friendlyName: 'Main',
      taskReservationTimeout: 30,
      configuration: JSON.stringify({ task_routing: { filters: [], default_filter: { queue: queue.sid } } }),
    });
    const activities = await services.activities.list(account, ws.sid, {}, { pageSize: 50, page: 0 });
    const available = activities.items.find((a) => a.friendlyName === 'Available')!.sid;
    const ann = await services.workers.create(account, ws.sid, {
      friendlyName: 'ann',
      activitySid: available,
    });
    const offered = await services.tasks.create(account, ws.sid, { timeout: 600 });
    const waiting = await services.tasks.create(account, ws.sid, { timeout: 60 });
    expect([offered.assignmentStatus, waiting.assignmentStatus]).toEqual(['reserved', 'pending']);
    await store.close();

    // Down for two minutes: both timers came due meanwhile.
    clock.advance(120_000);
    store = openTestStore(dir);
    services = createServices(store, { clock });
    await services.timers.start();
    await services.timers.idle();
    expect((await services.tasks.fetch(account, ws.sid, waiting.sid)).assignmentStatus).toBe('canceled');
    const [r] = (
      await services.reservations.list(account, ws.sid, { taskSid: offered.sid }, undefined, {
        pageSize: 5,
        page: 0,
      })
    ).items;
    expect(r!.reservationStatus).toBe('timeout');
    expect((await services.workers.fetch(account, ws.sid, ann.sid)).activitySid).toBe(ws.timeoutActivitySid);
    const types = (await store.listEvents(ws.sid, 0, 10_000)).map((e) => e.type);
    expect(types.filter((t) => t === 'reservation.timeout')).toHaveLength(1);
    expect(types.filter((t) => t === 'task.canceled')).toHaveLength(1);
    await services.timers.stop();
    await store.close();
  });
});
