import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { EventCallbacks } from '../../src/events/event-callbacks.js';
import type { Store } from '../../src/services/ports/store.js';
import { createTestApp, openTestStore, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { Receiver } from './receiver.js';

/**
 * Two nodes on one database, each running a callback sender: every event is POSTed once, by
 * one of them, and each workspace's events arrive in order (a claimed delivery is leased; only
 * a workspace's oldest pending one may be claimed).
 */
const clock = new ManualClock(Date.parse('2026-04-01T00:00:00Z'));
let t: TestApp;
let second: Store;
let receiver: Receiver;
let senders: EventCallbacks[];

beforeAll(async () => {
  receiver = await new Receiver().start('/nodes');
  t = await createTestApp({ now: () => new Date(clock.now()) });
  second = openTestStore(t.dir);
  senders = [t.store, second].map((store) => new EventCallbacks({ store, clock }, { concurrency: 4 }));
});
afterAll(async () => {
  await Promise.all(senders.map((s) => s.stop()));
  await receiver.close();
  await second.close();
  await t.close();
});

describe(`event callbacks on two nodes (${testBackend()})`, () => {
  it('sends each event once, in order per workspace', async () => {
    const workspaces: string[] = [];
    for (const name of ['One', 'Two', 'Three']) {
      const res = await t.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: name, EventCallbackUrl: receiver.url },
      });
      workspaces.push(res.json().sid);
    }
    for (let i = 0; i < 10; i++) {
      for (const ws of workspaces) {
        await t.request({
          method: 'POST',
          url: `/v1/Workspaces/${ws}/Workers`,
          form: { FriendlyName: `w${i}` },
        });
      }
    }
    // Queued while no node was sending; both start together.
    senders.forEach((s) => s.start());
    const expected = 3 * (9 + 10);
    await receiver.until(expected);
    await Promise.all(senders.map((s) => s.idle()));
    expect(receiver.received).toHaveLength(expected);
    expect(new Set(receiver.received.map((r) => r.params.Sid)).size).toBe(expected);
    for (const ws of workspaces) {
      const sent = receiver.received.filter((r) => r.params.WorkspaceSid === ws).map((r) => r.params.Sid);
      const logged = (await t.store.listEvents(ws, 0, 100)).map((e) => e.sid);
      expect(sent).toEqual(logged);
    }
    expect(senders[0]!.stats.delivered + senders[1]!.stats.delivered).toBe(expected);
  });
});
