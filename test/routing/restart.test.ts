import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * Timers survive a restart: a task's TTL and a reservation's timeout that came due while Roster
 * was down fire when it starts again, before it serves, and once (a second restart fires
 * nothing more).
 */
const T0 = Date.parse('2025-04-01T12:00:00Z');

describe(`routing timers across a restart (${testBackend()})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Roster on the data directory, its timers started as `serve` starts them, at `now`. */
  async function start(now: number): Promise<TestApp> {
    const t = await createTestApp({ dir, clock: new ManualClock(now) });
    await t.services.timers.start();
    return t;
  }
  async function stop(t: TestApp): Promise<void> {
    await t.services.timers.stop();
    await t.close();
  }

  it('fires what came due while it was down at start, once', async () => {
    let t = await start(T0);
    const account = t.account;
    const call = async <T>(method: 'GET' | 'POST', url: string, form?: Record<string, string>) => {
      const res = await t.request({ method, url, form, as: account });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return res.json<T>();
    };
    const ws = (await call<{ sid: string }>('POST', '/v1/Workspaces', { FriendlyName: 'Restart' })).sid;
    const v1 = (p: string) => `/v1/Workspaces/${ws}${p}`;
    const acts = (
      await call<{ activities: { sid: string; friendly_name: string }[] }>('GET', v1('/Activities'))
    ).activities;
    const available = acts.find((a) => a.friendly_name === 'Available')!.sid;
    const unavailable = acts.find((a) => a.friendly_name === 'Unavailable')!.sid;
    await call('POST', `/v1/Workspaces/${ws}`, { TimeoutActivitySid: unavailable });
    const queue = (
      await call<{ sid: string }>('POST', v1('/TaskQueues'), { FriendlyName: 'Q', TargetWorkers: '1==1' })
    ).sid;
    await call('POST', v1('/Workflows'), {
      FriendlyName: 'W',
      TaskReservationTimeout: '60',
      Configuration: JSON.stringify({ task_routing: { default_filter: { queue } } }),
    });
    const worker = (
      await call<{ sid: string }>('POST', v1('/Workers'), { FriendlyName: 'A', ActivitySid: available })
    ).sid;
    // One task is reserved for the worker (its reservation times out at +60 s); the other waits
    // with a TTL of 120 s.
    const reserved = (
      await call<{ sid: string }>('POST', v1('/Tasks'), { TaskChannel: 'voice', Attributes: '{}' })
    ).sid;
    const waiting = (
      await call<{ sid: string }>('POST', v1('/Tasks'), {
        TaskChannel: 'voice',
        Attributes: '{}',
        Timeout: '120',
      })
    ).sid;
    expect(
      (await call<{ assignment_status: string }>('GET', v1(`/Tasks/${reserved}`))).assignment_status,
    ).toBe('reserved');
    expect(
      (await call<{ assignment_status: string }>('GET', v1(`/Tasks/${waiting}`))).assignment_status,
    ).toBe('pending');
    await stop(t);

    // Down for ten minutes: both came due meanwhile, and fire at start.
    t = await start(T0 + 600_000);
    const task = (sid: string) => call<{ assignment_status: string }>('GET', v1(`/Tasks/${sid}`));
    expect((await task(waiting)).assignment_status).toBe('canceled');
    expect((await task(reserved)).assignment_status).toBe('pending');
    const reservations = (
      await call<{ reservations: { reservation_status: string }[] }>(
        'GET',
        v1(`/Tasks/${reserved}/Reservations`),
      )
    ).reservations;
    expect(reservations.map((r) => r.reservation_status)).toEqual(['timeout']);
    expect((await call<{ activity_sid: string }>('GET', v1(`/Workers/${worker}`))).activity_sid).toBe(
      unavailable,
    );
    const fired = async () =>
      (await t.store.listEvents(ws, 0, 10_000)).filter(
        (e) => e.type === 'reservation.timeout' || e.type === 'task.canceled',
      ).length;
    expect(await fired()).toBe(2);
    await stop(t);

    // Started again: nothing fires twice.
    t = await start(T0 + 1_200_000);
    expect(await fired()).toBe(2);
    await stop(t);
  });
});
