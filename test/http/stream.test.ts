import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { SseClient, waitFor } from './stream-client.js';

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await createTestApp({ live: { stream: { intervalMs: 20, heartbeatMs: 100 } } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());

interface Stats {
  total_workers: number;
  activity_statistics: { sid: string; friendly_name: string; workers: number }[];
}

async function workspace(name: string) {
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: name } })
  ).json();
  const activities = (await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities` })).json().activities as {
    sid: string;
    friendly_name: string;
  }[];
  const activity = (n: string) => activities.find((a) => a.friendly_name === n)!.sid;
  return { sid: ws.sid as string, activity };
}

async function addWorker(ws: string, name: string, activitySid?: string) {
  const form: Record<string, string> = { FriendlyName: name };
  if (activitySid) form.ActivitySid = activitySid;
  const res = await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form });
  expect(res.statusCode).toBe(201);
  return res.json().sid as string;
}

async function setActivity(ws: string, worker: string, activitySid: string) {
  const res = await t.request({
    method: 'POST',
    url: `/v1/Workspaces/${ws}/Workers/${worker}`,
    form: { ActivitySid: activitySid },
  });
  expect(res.statusCode).toBe(200);
}

const statsPath = (ws: string, query = '') => `/v1/Workspaces/${ws}/Workers/RealTimeStatistics${query}`;

async function getStats(ws: string, query = '') {
  const res = await t.request({ url: statsPath(ws, query) });
  expect(res.statusCode).toBe(200);
  return res.json() as Stats;
}

function subscribe(ws: string, query = '', headers: Record<string, string> = {}) {
  return SseClient.open(`${base}${statsPath(ws, query)}`, { authorization: t.account.auth, ...headers });
}

const workersIn = (name: string) => (json: unknown) =>
  (json as Stats).activity_statistics.find((a) => a.friendly_name === name)!.workers;

describe('RealTimeStatistics as Server-Sent Events', () => {
  it('needs the same credentials as the GET', async () => {
    const { sid } = await workspace('Auth');
    const anonymous = await SseClient.open(`${base}${statsPath(sid)}`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(await anonymous.text())).toMatchObject({ status: 401, code: 20003 });

    const other = await t.newAccount();
    const foreign = await SseClient.open(`${base}${statsPath(sid)}`, { authorization: other.auth });
    expect(foreign.status).toBe(404);
    expect(JSON.parse(await foreign.text())).toMatchObject({ status: 404 });
  });

  it('refuses an unknown task channel as the GET does', async () => {
    const { sid } = await workspace('Unknown channel');
    const s = await subscribe(sid, '?TaskChannel=fax');
    expect(s.status).toBe(404);
    expect(s.headers['content-type']).toMatch(/application\/json/);
    await s.text();
  });

  it('starts with the current snapshot, then sends exactly what the GET returns after each change', async () => {
    const ws = await workspace('Live');
    const w1 = await addWorker(ws.sid, 'alice');
    const s = await subscribe(ws.sid);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toContain('no-cache');

    const first = await s.next();
    expect(JSON.parse(first.data)).toEqual(await getStats(ws.sid));
    expect(first.id).toMatch(/^\d+$/);

    await setActivity(ws.sid, w1, ws.activity('Available'));
    const second = await s.nextMatching((j) => workersIn('Available')(j) === 1);
    expect(JSON.parse(second.data)).toEqual(await getStats(ws.sid));
    expect(BigInt(second.id!)).toBeGreaterThan(BigInt(first.id!));

    await addWorker(ws.sid, 'bob', ws.activity('Unavailable'));
    const third = await s.nextMatching((j) => (j as Stats).total_workers === 2);
    expect(JSON.parse(third.data)).toEqual(await getStats(ws.sid));
    expect(BigInt(third.id!)).toBeGreaterThan(BigInt(second.id!));
    s.close();
  });

  it('applies the TaskChannel filter like the GET', async () => {
    const ws = await workspace('Channels');
    const w1 = await addWorker(ws.sid, 'carol', ws.activity('Available'));
    await addWorker(ws.sid, 'dave', ws.activity('Available'));
    const s = await subscribe(ws.sid, '?TaskChannel=voice');
    const first = await s.next();
    expect(JSON.parse(first.data)).toEqual(await getStats(ws.sid, '?TaskChannel=voice'));
    expect(workersIn('Available')(JSON.parse(first.data))).toBe(2);

    const res = await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Workers/${w1}/Channels/voice`,
      form: { Available: 'false' },
    });
    expect(res.statusCode).toBe(200);
    const next = await s.nextMatching((j) => workersIn('Available')(j) === 1);
    expect(JSON.parse(next.data)).toEqual(await getStats(ws.sid, '?TaskChannel=voice'));
    expect((await getStats(ws.sid)).activity_statistics).toEqual(
      expect.arrayContaining([expect.objectContaining({ friendly_name: 'Available', workers: 2 })]),
    );
    s.close();
  });

  it('coalesces a burst of changes and always delivers the last state', async () => {
    const ws = await workspace('Burst');
    const workers = await Promise.all(Array.from({ length: 30 }, (_, i) => addWorker(ws.sid, `w${i}`)));
    const s = await subscribe(ws.sid);
    await s.next();
    await Promise.all(workers.map((w) => setActivity(ws.sid, w, ws.activity('Available'))));
    const last = await s.nextMatching((j) => workersIn('Available')(j) === 30);
    expect(JSON.parse(last.data)).toEqual(await getStats(ws.sid));
    // 30 writes, and not an event for each of them (ids still strictly increase).
    expect(s.events.length).toBeLessThan(31);
    const ids = s.events.map((e) => BigInt(e.id!));
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    s.close();
  });

  it('honours Last-Event-ID: the current state is not resent, a stale one is replaced', async () => {
    const ws = await workspace('Reconnect');
    const w = await addWorker(ws.sid, 'erin');
    const s1 = await subscribe(ws.sid);
    const seen = await s1.next();
    s1.close();

    // Up to date: nothing until the next change, which then arrives with a higher id.
    const s2 = await subscribe(ws.sid, '', { 'last-event-id': seen.id! });
    await setActivity(ws.sid, w, ws.activity('Available'));
    const after = await s2.next();
    expect(workersIn('Available')(JSON.parse(after.data))).toBe(1);
    expect(BigInt(after.id!)).toBeGreaterThan(BigInt(seen.id!));
    s2.close();

    // Behind (or from another node): the current state at once.
    const s3 = await subscribe(ws.sid, '', { 'last-event-id': seen.id! });
    const current = await s3.next();
    expect(JSON.parse(current.data)).toEqual(await getStats(ws.sid));
    s3.close();
  });

  it('sends heartbeat comments', async () => {
    const ws = await workspace('Heartbeat');
    const s = await subscribe(ws.sid);
    await s.waitUntil(() => s.comments.includes('heartbeat'));
    s.close();
  });

  it('ends the streams of a workspace that is deleted', async () => {
    const ws = await workspace('Doomed');
    const s = await subscribe(ws.sid);
    await s.next();
    expect((await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}` })).statusCode).toBe(204);
    await s.closed();
  });

  it('forgets subscribers that leave, and counts open streams in /metrics', async () => {
    const ws = await workspace('Metrics');
    const before = t.app.statisticsStreams.size;
    const s = await subscribe(ws.sid);
    await s.next();
    expect(t.app.statisticsStreams.size).toBe(before + 1);
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`^roster_open_streams ${before + 1}$`, 'm'));
    expect(metrics).toMatch(
      /^roster_http_requests_total\{method="POST",route="\/v1\/Workspaces",status="201"\} \d+$/m,
    );
    expect(metrics).toContain('roster_http_request_duration_seconds_bucket');
    s.close();
    await waitFor(() => t.app.statisticsStreams.size === before);
  });
});
