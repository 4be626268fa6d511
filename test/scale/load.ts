import { expect } from 'vitest';
import { pick } from './recount.js';

/** One request, however the test sends it (app.inject or a listening server). */
export type LoadCall = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  form?: Record<string, string>,
) => Promise<{ statusCode: number; json(): unknown }>;

export interface LoadWorkspace {
  sid: string;
  base: string;
  activities: string[];
  /** Task channels: unique name and SID. */
  channels: { uniqueName: string; sid: string }[];
}

/** A workspace made over the API, with Twilio's default activities and these besides. */
export async function makeLoadWorkspace(
  call: LoadCall,
  name: string,
  extraActivities: [string, boolean][],
): Promise<LoadWorkspace> {
  const ws = (await call('POST', '/v1/Workspaces', { FriendlyName: name })).json() as { sid: string };
  const base = `/v1/Workspaces/${ws.sid}`;
  for (const [friendlyName, available] of extraActivities) {
    const res = await call('POST', `${base}/Activities`, {
      FriendlyName: friendlyName,
      Available: String(available),
    });
    expect(res.statusCode).toBe(201);
  }
  const activities = (
    (await call('GET', `${base}/Activities`)).json() as { activities: { sid: string }[] }
  ).activities.map((a) => a.sid);
  const channels = (
    (await call('GET', `${base}/TaskChannels`)).json() as { channels: { unique_name: string; sid: string }[] }
  ).channels.map((c) => ({ uniqueName: c.unique_name, sid: c.sid }));
  return { sid: ws.sid, base, activities, channels };
}

/** How often each kind of operation comes (weights; reads take what is left of 1). */
export interface LoadMix {
  activity: number;
  channel: number;
  create: number;
  delete: number;
  bulk: number;
}

/**
 * Clients at once, each making random operations: activity changes, worker channel changes,
 * creates and deletes over the API, bulk loads through `bulk`, and statistics reads handed to
 * `read` with the task channel's unique name (or none). `workers` is kept current. Returns how
 * many of each operation ended with each status ("activity 200", "bulk 200", …).
 */
export async function runLoad(options: {
  random: () => number;
  call: LoadCall;
  ws: LoadWorkspace;
  workers: string[];
  clients: number;
  opsPerClient: number;
  mix: LoadMix;
  bulk: () => Promise<void>;
  read: (taskChannel: string | undefined) => Promise<void>;
}): Promise<Map<string, number>> {
  const { random, call, ws, workers, mix } = options;
  const { base, activities } = ws;
  const channels = ws.channels.map((c) => c.uniqueName);
  const statuses = new Map<string, number>();
  const count = (op: string, status: number) =>
    statuses.set(`${op} ${status}`, (statuses.get(`${op} ${status}`) ?? 0) + 1);
  let created = 0;
  // Where each kind of operation ends on the way from 0 to 1.
  const limits: number[] = [];
  [mix.activity, mix.channel, mix.create, mix.delete, mix.bulk].reduce((sum, w) => {
    limits.push(sum + w);
    return sum + w;
  }, 0);
  const client = async (id: number) => {
    for (let i = 0; i < options.opsPerClient; i++) {
      const roll = random();
      if (roll < limits[0]!) {
        const res = await call('POST', `${base}/Workers/${pick(random, workers)}`, {
          ActivitySid: pick(random, activities),
        });
        count('activity', res.statusCode);
        expect([200, 404]).toContain(res.statusCode);
      } else if (roll < limits[1]!) {
        const res = await call(
          'POST',
          `${base}/Workers/${pick(random, workers)}/Channels/${pick(random, channels)}`,
          {
            Available: random() < 0.6 ? 'true' : 'false',
            Capacity: String(Math.floor(random() * 3)),
          },
        );
        count('channel', res.statusCode);
        expect([200, 404]).toContain(res.statusCode);
      } else if (roll < limits[2]!) {
        const res = await call('POST', `${base}/Workers`, {
          FriendlyName: `client ${id} worker ${created++}`,
          ActivitySid: pick(random, activities),
        });
        count('create', res.statusCode);
        expect(res.statusCode).toBe(201);
        workers.push((res.json() as { sid: string }).sid);
      } else if (roll < limits[3]!) {
        const sid = workers[Math.floor(random() * workers.length)]!;
        const res = await call('DELETE', `${base}/Workers/${sid}`);
        count('delete', res.statusCode);
        expect([204, 404]).toContain(res.statusCode);
        if (res.statusCode === 204) workers.splice(workers.indexOf(sid), 1);
      } else if (roll < limits[4]!) {
        await options.bulk();
        count('bulk', 200);
      } else {
        await options.read(random() < 0.5 ? undefined : pick(random, channels));
        count('read', 200);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, id) => client(id)));
  return statuses;
}
