import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { stalledSubscriber, waitFor, workspaceWithManyActivities } from './stream-client.js';

let t: TestApp;
let port: number;

beforeAll(async () => {
  // No coalescing: every change is an event, so a stalled reader falls behind quickly.
  t = await createTestApp({
    twilioLimits: false, // statistics bodies of 400 activities
    live: { stream: { intervalMs: 0, heartbeatMs: 60_000, stallTimeoutMs: 600_000 } },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

describe('a slow subscriber', () => {
  it('never makes the server buffer more than the latest event, and gets the last state when it reads', async () => {
    // Many activities make every event large (tens of kB).
    const ws = await workspaceWithManyActivities(t, 'Slow', 400, true);
    const { activities, worker } = ws;
    expect(activities).toHaveLength(403);

    const path = `/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics`;
    const frameSize = JSON.stringify((await t.request({ url: path })).json()).length + 64;
    const slow = stalledSubscriber(port, path, t.account.auth);
    await waitFor(() => t.app.statisticsStreams.size === 1);

    let written = 0;
    let maxBuffered = 0;
    // Until the socket pushes back (the kernel's buffers are full), then a good many more.
    let afterBlocked = 0;
    for (let i = 0; afterBlocked < 100 && written < 100 * 1024 * 1024; i++) {
      const activity = activities[i % activities.length]!;
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws.sid}/Workers/${worker}`,
        form: { ActivitySid: activity },
      });
      expect(res.statusCode).toBe(200);
      written += frameSize;
      maxBuffered = Math.max(maxBuffered, t.app.statisticsStreams.bufferedBytes);
      if (maxBuffered > 0) afterBlocked++;
    }
    // Far more was produced than the kernel's buffers hold, and the server kept at most
    // its socket's high-water mark plus the one latest event.
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 2 * frameSize);

    const last = (await t.request({ url: path })).body;
    slow.resume();
    await waitFor(() => slow.received().includes(`data: ${last}\n\n`));
    slow.socket.destroy();
    await waitFor(() => t.app.statisticsStreams.size === 0);
  });

  it('counts an event shared by many slow subscribers once in the buffered-bytes metric', async () => {
    const ws = await workspaceWithManyActivities(t, 'Shared', 400, true);
    const { activities, worker } = ws;
    const path = `/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics`;
    const frameSize = JSON.stringify((await t.request({ url: path })).json()).length + 64;
    const slow = Array.from({ length: 5 }, () => stalledSubscriber(port, path, t.account.auth));
    await waitFor(() => t.app.statisticsStreams.size === slow.length);

    let maxBuffered = 0;
    let afterBlocked = 0;
    for (let i = 0; afterBlocked < 50 && i < 5000; i++) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws.sid}/Workers/${worker}`,
        form: { ActivitySid: activities[i % activities.length]! },
      });
      expect(res.statusCode).toBe(200);
      maxBuffered = Math.max(maxBuffered, t.app.statisticsStreams.bufferedBytes);
      if (maxBuffered > 0) afterBlocked++;
    }
    // Five subscribers hold the same few events: memory for those, not five copies.
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024 + 2 * frameSize);
    for (const s of slow) s.socket.destroy();
    await waitFor(() => t.app.statisticsStreams.size === 0);
  });
});
