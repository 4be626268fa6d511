import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { SseClient, stalledSubscriber, waitFor, workspaceWithManyActivities } from './stream-client.js';

let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await createTestApp({
    live: { stream: { intervalMs: 0, heartbeatMs: 20, stallTimeoutMs: 50 } },
    twilioLimits: false, // statistics bodies of 200 activities
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
});

describe('stream lifecycle', () => {
  it('disconnects a subscriber whose socket stays full past the stall timeout', async () => {
    const ws = await workspaceWithManyActivities(t, 'Stall', 200);
    const { activities, worker } = ws;
    const slow = stalledSubscriber(
      port,
      `/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics`,
      t.account.auth,
    );
    await waitFor(() => t.app.statisticsStreams.size === 1);
    // Changes until the server gives up on it (bounded: a few hundred MB of events at most).
    for (let i = 0; t.app.statisticsStreams.size > 0 && i < 20_000; i++) {
      await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws.sid}/Workers/${worker}`,
        form: { ActivitySid: activities[i % activities.length]! },
      });
    }
    expect(t.app.statisticsStreams.size).toBe(0);
    slow.socket.destroy();
  });

  it('ends open streams when the app closes, without waiting for them', async () => {
    const ws = (
      await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Bye' } })
    ).json();
    const url = `http://127.0.0.1:${port}/v1/Workspaces/${ws.sid}/Workers/RealTimeStatistics`;
    const streams = await Promise.all(
      ['', '?TaskChannel=voice', ''].map((q) => SseClient.open(url + q, { authorization: t.account.auth })),
    );
    await Promise.all(streams.map((s) => s.next()));
    await t.close();
    await Promise.all(streams.map((s) => s.closed()));
    expect(t.app.statisticsStreams.size).toBe(0);
  });
});
