import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createServices } from '../../src/services/index.js';
import { createTestApp, openTestStore, type TestApp } from '../helpers/app.js';
import { routingHelpers } from '../helpers/routing.js';
import { SseClient } from './stream-client.js';

let t: TestApp;
let h: ReturnType<typeof routingHelpers>;
let base: string;

// A manual clock: the ages in a pushed payload and in the GET after it are the same.
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roster-rt-stream-'));
  const services = createServices(openTestStore(dir), { clock: new ManualClock(Date.UTC(2026, 0, 5, 9)) });
  t = await createTestApp({ dir, services, live: { stream: { intervalMs: 20, heartbeatMs: 100 } } });
  h = routingHelpers(t);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());

const subscribe = (path: string, headers: Record<string, string> = {}) =>
  SseClient.open(`${base}${path}`, { authorization: t.account.auth, ...headers });

const totalTasks = (n: number) => (json: unknown) => (json as { total_tasks: number }).total_tasks === n;

describe('Workspace, TaskQueue and Workflow RealTimeStatistics as Server-Sent Events', () => {
  it('each starts with the GET body, then sends exactly what the GET returns after each change', async () => {
    const s = await h.workspace();
    const paths = [
      `/v1/Workspaces/${s.ws}/RealTimeStatistics`,
      `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`,
      `/v1/Workspaces/${s.ws}/Workflows/${s.workflow}/RealTimeStatistics`,
      `/v1/Workspaces/${s.ws}/RealTimeStatistics?TaskChannel=voice`,
    ];
    const streams = await Promise.all(paths.map((p) => subscribe(p)));
    const firsts = [];
    for (const [i, stream] of streams.entries()) {
      expect(stream.status).toBe(200);
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const first = await stream.next();
      // Each resource is its own stream: not another one's payload.
      expect(JSON.parse(first.data), paths[i]).toEqual(await h.get(paths[i]!));
      firsts.push(first);
    }

    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow });
    for (const [i, stream] of streams.slice(0, 3).entries()) {
      const next = await stream.nextMatching(totalTasks(1));
      expect(JSON.parse(next.data), paths[i]).toEqual(await h.get(paths[i]!));
      expect(BigInt(next.id!)).toBeGreaterThan(BigInt(firsts[i]!.id!));
    }
    // The default channel's task is not the voice stream's: it still says none.
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow, TaskChannel: 'voice' });
    const voice = await streams[3]!.nextMatching(totalTasks(1));
    expect(JSON.parse(voice.data)).toEqual(await h.get(paths[3]!));
    for (const stream of streams) stream.close();
  });

  it('honours Last-Event-ID and refuses what the GET refuses', async () => {
    const s = await h.workspace();
    const path = `/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}/RealTimeStatistics`;
    const s1 = await subscribe(path);
    const seen = await s1.next();
    s1.close();
    const s2 = await subscribe(path, { 'last-event-id': seen.id! });
    await h.post(`/v1/Workspaces/${s.ws}/Tasks`, { WorkflowSid: s.workflow });
    // Up to date: the first event is the change, not the state it had.
    const after = await s2.next();
    expect(JSON.parse(after.data)).toMatchObject({ total_tasks: 1 });
    s2.close();

    const unknown = await subscribe(
      `/v1/Workspaces/${s.ws}/TaskQueues/WQ${'0'.repeat(32)}/RealTimeStatistics`,
    );
    expect(unknown.status).toBe(404);
    expect(JSON.parse(await unknown.text())).toMatchObject({ status: 404, code: 20404 });
    const other = await t.newAccount();
    const foreign = await SseClient.open(`${base}${path}`, { authorization: other.auth });
    expect(foreign.status).toBe(404);
    await foreign.text();
  });
});
