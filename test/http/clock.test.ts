import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { newSid, SidPrefix } from '../../src/domain/sid.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';

/**
 * ROSTER_CLOCK=manual: POST /roster/v1/Clock moves the clock, and the timers due on the way
 * fire at their own times, in order, before the response; on the system clock a move is refused.
 */
const T0 = Date.parse('2025-01-01T10:00:00Z');

describe(`the clock endpoint (${testBackend()})`, () => {
  let t: TestApp;
  const clock = new ManualClock(T0);
  /** Each firing: the timer's resource and the clock's time when it fired. */
  const fired: { sid: string; at: number }[] = [];
  const ws = newSid(SidPrefix.workspace);

  beforeAll(async () => {
    t = await createTestApp({ clock });
    const { timers } = t.services;
    // A firing that schedules the next one 15 s later, as a workflow step or a retry would.
    timers.on('test.chain', async (tx, timer) => {
      fired.push({ sid: timer.resourceSid, at: clock.now() });
      const left = Number(timer.resourceSid.slice(-1));
      if (left > 0) {
        await timers.schedule(tx, {
          workspaceSid: ws,
          kind: 'test.chain',
          resourceSid: timer.resourceSid.slice(0, -1) + String(left - 1),
          dueAtMs: clock.now() + 15_000,
        });
      }
    });
    await timers.start();
  });
  afterAll(async () => {
    await t.services.timers.stop();
    await t.close();
  });

  const post = (form: Record<string, string>) => t.request({ method: 'POST', url: '/roster/v1/Clock', form });

  it('reads the time', async () => {
    const res = await t.request({ method: 'GET', url: '/roster/v1/Clock' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      mode: 'manual',
      now: '2025-01-01T10:00:00.000Z',
      now_ms: T0,
      url: 'http://roster.test/roster/v1/Clock',
    });
  });

  it('needs credentials like every API route', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/roster/v1/Clock', payload: { Advance: '1' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 20003, status: 401 });
    expect(clock.now()).toBe(T0);
  });

  it('moves by Advance seconds and to a Time, and fires what came due on the way, in order', async () => {
    await t.store.transaction(async (tx) => {
      await t.services.timers.schedule(tx, {
        workspaceSid: ws,
        kind: 'test.chain',
        resourceSid: 'chain-a2',
        dueAtMs: T0 + 30_000,
      });
    });

    let res = await post({ Advance: '29.999' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ now_ms: T0 + 29_999, now: '2025-01-01T10:00:29.999Z' });
    expect(fired).toEqual([]);

    // One move past three firings: each at its own time, the later ones scheduled by the earlier.
    res = await post({ Advance: '60' });
    expect(res.json()).toMatchObject({ now_ms: T0 + 89_999 });
    expect(fired).toEqual([
      { sid: 'chain-a2', at: T0 + 30_000 },
      { sid: 'chain-a1', at: T0 + 45_000 },
      { sid: 'chain-a0', at: T0 + 60_000 },
    ]);
    expect(await t.store.nextTimerDue()).toBeNull();

    res = await post({ Time: '2025-01-01T11:00:00+01:00' }); // the same instant as 10:00Z: no move
    expect(res.statusCode).toBe(400);
    res = await post({ Time: '2025-01-01T10:30:00Z' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ now: '2025-01-01T10:30:00.000Z', now_ms: T0 + 1_800_000 });
    res = await post({ Advance: '0' });
    expect(res.json()).toMatchObject({ now_ms: T0 + 1_800_000 });
  });

  it('answers bad input with a clear 400 and leaves the clock alone', async () => {
    const before = clock.now();
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /either Advance .* or Time/],
      [{ Advance: '1', Time: '2030-01-01T00:00:00Z' }, /not both/],
      [{ Advance: '-5' }, /Advance must be a number of seconds/],
      [{ Advance: 'soon' }, /Advance must be a number of seconds/],
      [{ Advance: '1e3' }, /Advance must be a number of seconds/],
      [{ Advance: '' }, /Advance must be a number of seconds/],
      [{ Time: 'tomorrow' }, /Time must be an ISO 8601 date and time/],
      [{ Time: '2030-01-01' }, /Time must be an ISO 8601 date and time/],
      [{ Time: '2030-02-31T00:00:00Z' }, /Time must be an ISO 8601 date and time/],
      [{ Time: '2024-12-31T23:59:59Z' }, /only moves forward/],
    ];
    for (const [form, message] of cases) {
      const res = await post(form);
      expect(res.statusCode, JSON.stringify(form)).toBe(400);
      const body = res.json<{ code: number; message: string; status: number }>();
      expect(body).toMatchObject({ code: 20001, status: 400 });
      expect(body.message).toMatch(message);
    }
    expect(clock.now()).toBe(before);
  });

  it('takes moves one at a time', async () => {
    const before = clock.now();
    const answers = await Promise.all([
      post({ Advance: '1' }),
      post({ Advance: '2' }),
      post({ Advance: '3' }),
    ]);
    // Whatever order they arrived in, each move started where the one before it ended.
    const times = answers.map((r) => r.json<{ now_ms: number }>().now_ms).sort((a, b) => a - b);
    const steps = times.map((x, i) => x - (i === 0 ? before : times[i - 1]!));
    expect([...steps].sort((a, b) => a - b)).toEqual([1_000, 2_000, 3_000]);
    expect(clock.now()).toBe(before + 6_000);
  });
});

describe(`the clock endpoint on the system clock (${testBackend()})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('reads the time and refuses to move it', async () => {
    const read = await t.request({ method: 'GET', url: '/roster/v1/Clock' });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ mode: 'system' });
    const res = await t.request({ method: 'POST', url: '/roster/v1/Clock', form: { Advance: '60' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: 20403,
      status: 403,
      message: expect.stringMatching(/ROSTER_CLOCK=manual/) as unknown,
    });
  });
});
