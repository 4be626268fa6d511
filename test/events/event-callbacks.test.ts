import twilio from 'twilio';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { EventCallbacks } from '../../src/events/event-callbacks.js';
import { Metrics } from '../../src/live/metrics.js';
import { openTestStore } from '../helpers/app.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { Receiver } from './receiver.js';

/**
 * Event callbacks to a real HTTP receiver on 127.0.0.1: what is POSTed (Twilio's parameters,
 * signed so that the twilio SDK's own validator accepts it), in order per workspace, retried
 * on the manual clock while the receiver fails, given up after the horizon, and not lost when
 * Roster stops with deliveries pending.
 */
const START = Date.parse('2026-02-01T08:00:00Z');
const clock = new ManualClock(START);
let t: TestApp;
let receiver: Receiver;
let callbacks: EventCallbacks;
let ws: string;

const OPTIONS = {
  retryBaseMs: 1_000,
  retryMaxMs: 8_000,
  horizonMs: 20_000,
  concurrency: 3,
  timeoutMs: 5_000,
};

const post = (url: string, form: Record<string, string>) => t.request({ method: 'POST', url, form });

beforeAll(async () => {
  receiver = await new Receiver().start();
  t = await createTestApp({ now: () => new Date(clock.now()) });
  callbacks = new EventCallbacks({ store: t.store, clock }, OPTIONS);
  callbacks.start();
  ws = (await post('/v1/Workspaces', { FriendlyName: 'Called back', EventCallbackUrl: receiver.url })).json()
    .sid;
});
afterEach(() => {
  receiver.respond = () => ({ status: 204 });
});
afterAll(async () => {
  await callbacks.stop();
  await receiver.close();
  await t.close();
});

async function settle(): Promise<void> {
  await callbacks.idle();
}

describe(`event callbacks (${testBackend()})`, () => {
  it('POSTs every event with Twilio parameters, signed so that twilio.validateRequest accepts it', async () => {
    await receiver.until(9); // workspace.created, 3 activity.created, 5 task-channel.created
    const worker = (
      await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: 'Ann', Attributes: '{"x":1}' })
    ).json();
    await receiver.until(10);
    await settle();
    expect(receiver.types()).toEqual([
      'workspace.created',
      'activity.created',
      'activity.created',
      'activity.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'task-channel.created',
      'worker.created',
    ]);
    for (const r of receiver.received) {
      expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(
        twilio.validateRequest(
          t.account.token,
          r.headers['x-twilio-signature'] as string,
          receiver.url,
          r.params,
        ),
      ).toBe(true);
      expect(
        twilio.validateRequest(
          'another-token',
          r.headers['x-twilio-signature'] as string,
          receiver.url,
          r.params,
        ),
      ).toBe(false);
      expect(r.url).toBe('/callbacks?from=roster');
    }
    const created = receiver.received[9]!;
    expect(created.params).toMatchObject({
      EventType: 'worker.created',
      AccountSid: t.account.sid,
      WorkspaceSid: ws,
      WorkspaceName: 'Called back',
      EventDescription: 'Worker Ann created',
      ResourceType: 'Worker',
      ResourceSid: worker.sid,
      Timestamp: String(START / 1000),
      TimestampMs: String(START),
      WorkerSid: worker.sid,
      WorkerName: 'Ann',
      WorkerAttributes: '{"x":1}',
      WorkerActivityName: 'Offline',
    });
    expect(created.headers['i-twilio-idempotency-token']).toBe(created.params.Sid);
    // The Sid is the Event resource's.
    const fetched = await t.request({ url: `/v1/Workspaces/${ws}/Events/${created.params.Sid}` });
    expect(fetched.json()).toMatchObject({ event_type: 'worker.created', resource_sid: worker.sid });
  });

  it('sends only the types EventsFilter lists', async () => {
    const before = receiver.received.length;
    await post(`/v1/Workspaces/${ws}`, { EventsFilter: 'worker.activity.update, worker.deleted' });
    const worker = (await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: 'Filtered' })).json();
    const activities = (
      await t.request({ url: `/v1/Workspaces/${ws}/Activities?FriendlyName=Available` })
    ).json();
    await post(`/v1/Workspaces/${ws}/Workers/${worker.sid}`, { ActivitySid: activities.activities[0].sid });
    await post(`/v1/Workspaces/${ws}/Workers/${worker.sid}`, { Attributes: '{"y":2}' });
    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/Workers/${worker.sid}` });
    await receiver.until(before + 2);
    await settle();
    expect(receiver.types().slice(before)).toEqual(['worker.activity.update', 'worker.deleted']);
    expect(receiver.received[before]!.params).toMatchObject({
      WorkerPreviousActivityName: 'Offline',
      WorkerActivityName: 'Available',
      WorkerTimeInPreviousActivity: '0',
    });
    await post(`/v1/Workspaces/${ws}`, { EventsFilter: '' });
    await receiver.until(before + 3); // workspace.updated: the filter no longer holds it back
    await settle();
    expect(receiver.types().at(-1)).toBe('workspace.updated');
  });

  it("retries while the receiver fails, on the clock, keeping the workspace's order; the API is not held up", async () => {
    const before = receiver.received.length;
    receiver.respond = () => ({ status: 503 });
    for (const name of ['R1', 'R2', 'R3']) {
      const res = await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: name });
      expect(res.statusCode).toBe(201);
    }
    await receiver.until(before + 1);
    await settle();
    // One attempt of the first; the others wait behind it.
    expect(receiver.received.length).toBe(before + 1);
    const pending = await t.request({ url: `/roster/v1/Workspaces/${ws}/EventCallbacks` });
    expect(pending.statusCode).toBe(200);
    const listed = pending.json().event_callbacks as {
      event_type: string;
      attempts: number;
      last_error: string | null;
      parameters: Record<string, string>;
    }[];
    expect(listed.map((d) => [d.parameters.WorkerName, d.attempts, d.last_error])).toEqual([
      ['R1', 1, 'HTTP 503'],
      ['R2', 0, null],
      ['R3', 0, null],
    ]);

    clock.advance(1_000); // the first retry
    await receiver.until(before + 2);
    await settle();
    expect(receiver.received.length).toBe(before + 2);
    receiver.respond = () => ({ status: 204 });
    clock.advance(2_000); // the second retry, which succeeds; the rest follow at once
    await receiver.until(before + 5);
    await settle();
    expect(receiver.received.slice(before).map((r) => r.params.WorkerName)).toEqual([
      'R1',
      'R1',
      'R1',
      'R2',
      'R3',
    ]);
    expect(
      (await t.request({ url: `/roster/v1/Workspaces/${ws}/EventCallbacks` })).json().event_callbacks,
    ).toEqual([]);
  });

  it('sends a run of queued events in one claim; a failure inside it holds the rest back, in order', async () => {
    await callbacks.stop();
    const before = receiver.received.length;
    for (const name of ['M1', 'M2', 'M3', 'M4', 'M5']) {
      expect((await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: name })).statusCode).toBe(201);
    }
    let failed = false;
    receiver.respond = (r) => {
      if (r.params.WorkerName !== 'M3' || failed) return { status: 204 };
      failed = true;
      return { status: 500 };
    };
    callbacks.start(); // all five are pending: one claim takes them as a run
    await receiver.until(before + 3);
    await settle();
    expect(receiver.received.slice(before).map((r) => r.params.WorkerName)).toEqual(['M1', 'M2', 'M3']);
    const waiting = (await t.request({ url: `/roster/v1/Workspaces/${ws}/EventCallbacks` })).json()
      .event_callbacks as { parameters: Record<string, string>; attempts: number }[];
    expect(waiting.map((d) => [d.parameters.WorkerName, d.attempts])).toEqual([
      ['M3', 1],
      ['M4', 0],
      ['M5', 0],
    ]);
    clock.advance(1_000);
    await receiver.until(before + 6);
    await settle();
    expect(receiver.received.slice(before).map((r) => r.params.WorkerName)).toEqual([
      'M1',
      'M2',
      'M3',
      'M3',
      'M4',
      'M5',
    ]);
  });

  it('gives a delivery up after the horizon, keeps it as failed, and goes on with the next', async () => {
    const before = receiver.received.length;
    receiver.respond = (r) => ({ status: r.params.WorkerName === 'Doomed' ? 500 : 204 });
    await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: 'Doomed' });
    await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: 'Next' });
    await receiver.until(before + 1);
    await settle();
    // Retries 1, 2, 4 and 8 s after each failure; the next would come 23 s after the first
    // attempt, past the 20 s horizon, so the fifth failure gives it up.
    for (const ms of [1_000, 2_000, 4_000, 8_000]) {
      clock.advance(ms);
      await receiver.until(receiver.received.length + 1);
      await settle();
    }
    const doomed = receiver.received.slice(before).filter((r) => r.params.WorkerName === 'Doomed');
    expect(doomed.length).toBe(5);
    expect(receiver.received.at(-1)!.params.WorkerName).toBe('Next');
    const failed = (
      await t.request({ url: `/roster/v1/Workspaces/${ws}/EventCallbacks?State=failed` })
    ).json();
    expect(failed.event_callbacks).toHaveLength(1);
    expect(failed.event_callbacks[0]).toMatchObject({
      state: 'failed',
      attempts: 5,
      last_status: 500,
      last_error: 'HTTP 500',
    });
    expect(callbacks.stats.failed).toBe(1);
    // /metrics says so.
    const metrics = new Metrics({ stats: callbacks.stats, counts: () => t.store.countDeliveries() });
    const text = await metrics.registry.metrics();
    expect(text).toContain('roster_event_callback_attempts_total{outcome="failed"} 1');
    expect(text).toMatch(/roster_event_callback_attempts_total\{outcome="retried"\} [1-9]/);
    expect(text).toContain('roster_event_callbacks{state="failed"} 1');
    expect(text).toContain('roster_event_callbacks{state="pending"} 0');
  });

  it('loses nothing across a stop: what committed meanwhile is sent after the start, in order', async () => {
    await callbacks.stop();
    const before = receiver.received.length;
    for (const name of ['While', 'Roster', 'Was', 'Down'])
      await post(`/v1/Workspaces/${ws}/Workers`, { FriendlyName: name });
    expect(receiver.received.length).toBe(before);
    callbacks = new EventCallbacks({ store: t.store, clock }, OPTIONS);
    callbacks.start();
    await receiver.until(before + 4);
    await settle();
    expect(receiver.received.slice(before).map((r) => r.params.WorkerName)).toEqual([
      'While',
      'Roster',
      'Was',
      'Down',
    ]);
  });

  it('replays the events of a time range on request', async () => {
    const before = receiver.received.length;
    const res = await t.request({
      method: 'POST',
      url: `/roster/v1/Workspaces/${ws}/EventCallbacks/Replay`,
      form: { StartDate: '2026-02-01T08:00:00Z', EndDate: '2026-02-01T08:00:00Z' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().queued).toBeGreaterThanOrEqual(10);
    callbacks.wake();
    await receiver.until(before + res.json().queued);
    await settle();
    expect(receiver.types().slice(before, before + 2)).toEqual(['workspace.created', 'activity.created']);
  });
});

describe(`event callbacks after a restart of the store (${testBackend()})`, () => {
  it('sends what was pending when the store closed', async () => {
    const app = await createTestApp({ now: () => new Date(clock.now()) });
    const r = await new Receiver().start('/after-restart');
    const w = (
      await app.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'Restarted', EventCallbackUrl: r.url },
      })
    ).json().sid;
    await app.app.close();
    await app.store.close();
    const store = openTestStore(app.dir);
    const sender = new EventCallbacks({ store, clock }, OPTIONS);
    sender.start();
    await r.until(9);
    await sender.idle();
    await sender.stop();
    expect(r.types()[0]).toBe('workspace.created');
    expect(r.received[0]!.params.WorkspaceSid).toBe(w);
    expect(r.received).toHaveLength(9);
    await r.close();
    await store.close();
  });
});
