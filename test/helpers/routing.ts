import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { createServices } from '../../src/services/index.js';
import { createTestApp, openTestStore, type TestApp } from './app.js';

/** A test app whose services run on a manual clock (routing's timers fire on `fireDue`). */
export async function createRoutingApp(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
  const clock = new ManualClock(start);
  const dir = mkdtempSync(join(tmpdir(), 'roster-routing-'));
  const store = openTestStore(dir);
  const services = createServices(store, { clock });
  const t = await createTestApp({ dir, services });
  return { t, clock, ...routingHelpers(t) };
}

export interface RoutingSetup {
  ws: string;
  idle: string;
  offline: string;
  busy: string;
  queue: string;
  workflow: string;
}

export function routingHelpers(t: TestApp) {
  async function post(url: string, form: Record<string, string | undefined>) {
    const r = await t.request({ method: 'POST', url, form });
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r.json();
  }
  async function get(url: string) {
    const r = await t.request({ url });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  }
  /** A workspace with a queue of everyone and one workflow (default filter into it, unless `config`). */
  async function workspace(
    options: {
      multitasking?: boolean;
      timeout?: number;
      queue?: Record<string, string>;
      config?: (queue: string) => string;
    } = {},
  ): Promise<RoutingSetup> {
    const ws = (
      await post('/v1/Workspaces', {
        FriendlyName: `ws-${Math.random()}`,
        MultiTaskEnabled: options.multitasking === false ? 'false' : 'true',
      })
    ).sid as string;
    const activities = (await get(`/v1/Workspaces/${ws}/Activities`)).activities as {
      sid: string;
      friendly_name: string;
    }[];
    const sidOf = (name: string) => activities.find((a) => a.friendly_name === name)!.sid;
    const queue = (
      await post(`/v1/Workspaces/${ws}/TaskQueues`, {
        FriendlyName: 'All',
        TargetWorkers: '1==1',
        ...options.queue,
      })
    ).sid as string;
    const config =
      options.config?.(queue) ?? JSON.stringify({ task_routing: { filters: [], default_filter: { queue } } });
    const workflow = (
      await post(`/v1/Workspaces/${ws}/Workflows`, {
        FriendlyName: 'Main',
        Configuration: config,
        TaskReservationTimeout: String(options.timeout ?? 120),
      })
    ).sid as string;
    return {
      ws,
      idle: sidOf('Available'),
      offline: sidOf('Offline'),
      busy: sidOf('Unavailable'),
      queue,
      workflow,
    };
  }
  async function worker(s: RoutingSetup, name: string, activity: string, attributes = '{}') {
    return (
      await post(`/v1/Workspaces/${s.ws}/Workers`, {
        FriendlyName: name,
        ActivitySid: activity,
        Attributes: attributes,
      })
    ).sid as string;
  }
  async function events(ws: string): Promise<string[]> {
    return (await t.store.listEvents(ws, 0, 10_000)).map((e) => e.type);
  }
  /** The task's reservations as [worker, status] pairs, oldest first. */
  async function offers(s: RoutingSetup, task: string): Promise<[string, string][]> {
    const list = (await get(`/v1/Workspaces/${s.ws}/Tasks/${task}/Reservations`)).reservations as {
      worker_sid: string;
      reservation_status: string;
    }[];
    return list.map((r) => [r.worker_sid, r.reservation_status]);
  }
  return { post, get, workspace, worker, events, offers };
}
