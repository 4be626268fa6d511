import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTargetWorkers, matchesQueue, workerDocument } from '../../src/domain/task-queues.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * Materialised queue membership against a recount: random worker, queue and activity writes,
 * several at a time, and after each round every worker's queues (GET /TaskQueues?WorkerSid=)
 * must equal every queue's TargetWorkers evaluated against every worker as it is now.
 */
let t: TestApp;
let ws: string;
let activities: { sid: string; name: string }[];

beforeAll(async () => {
  t = await createTestApp();
  ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Membership' } })
  ).json().sid;
  activities = (await t.request({ url: `/v1/Workspaces/${ws}/Activities` }))
    .json()
    .activities.map((a: { sid: string; friendly_name: string }) => ({ sid: a.sid, name: a.friendly_name }));
});
afterAll(() => t.close());

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

const EXPRESSIONS = [
  '1==1',
  '',
  'level >= 2',
  "languages HAS 'en'",
  "languages HAS 'fr' OR level > 3",
  "worker.activity_name == 'Available'",
  "activity_name IN ['Busy', 'Unavailable']",
  "worker.activity_name == 'Occupied'",
  "friendly_name CONTAINS '1'",
  "level < 3 AND languages HAS 'es'",
  'team.size > 2',
];

function randomAttributes(r: ReturnType<typeof random>) {
  const languages = ['en', 'es', 'fr'].filter(() => r.int(2) === 0);
  return JSON.stringify(r.int(5) === 0 ? {} : { level: r.int(5), languages, team: { size: r.int(5) } });
}

describe('Queue membership', () => {
  it('equals re-evaluating every expression against every worker, after random concurrent changes', async () => {
    const r = random(20261129);
    const base = `/v1/Workspaces/${ws}`;
    const post = (url: string, form: Record<string, string>) =>
      t.request({ method: 'POST', url: base + url, form });
    const workers: string[] = [];
    const queues: string[] = [];
    let made = 0;
    for (let i = 0; i < 8; i++) {
      workers.push(
        (await post('/Workers', { FriendlyName: `w${made++}`, Attributes: randomAttributes(r) })).json().sid,
      );
    }
    for (let i = 0; i < 4; i++) {
      queues.push(
        (await post('/TaskQueues', { FriendlyName: `q${made++}`, TargetWorkers: r.pick(EXPRESSIONS) })).json()
          .sid,
      );
    }
    const busy = (await post('/Activities', { FriendlyName: 'Busy', Available: 'false' })).json();
    activities.push({ sid: busy.sid, name: 'Busy' });

    for (let round = 0; round < 25; round++) {
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 6; i++) {
        const op = r.int(10);
        if (op <= 2 && workers.length > 0) {
          writes.push(post(`/Workers/${r.pick(workers)}`, { Attributes: randomAttributes(r) }));
        } else if (op === 3 && workers.length > 0) {
          writes.push(post(`/Workers/${r.pick(workers)}`, { ActivitySid: r.pick(activities).sid }));
        } else if (op === 4 && workers.length > 0) {
          writes.push(post(`/Workers/${r.pick(workers)}`, { FriendlyName: `w${made++}` }));
        } else if (op === 5) {
          const name = `w${made++}`;
          writes.push(
            post('/Workers', { FriendlyName: name, Attributes: randomAttributes(r) }).then((res) => {
              workers.push(res.json().sid);
            }),
          );
        } else if (op === 6 && workers.length > 4) {
          const sid = workers.splice(r.int(workers.length), 1)[0]!;
          writes.push(t.request({ method: 'DELETE', url: `${base}/Workers/${sid}` }));
        } else if (op === 7 && queues.length > 0) {
          writes.push(post(`/TaskQueues/${r.pick(queues)}`, { TargetWorkers: r.pick(EXPRESSIONS) }));
        } else if (op === 8) {
          if (queues.length > 2 && r.int(2) === 0) {
            const sid = queues.splice(r.int(queues.length), 1)[0]!;
            writes.push(t.request({ method: 'DELETE', url: `${base}/TaskQueues/${sid}` }));
          } else {
            writes.push(
              post('/TaskQueues', { FriendlyName: `q${made++}`, TargetWorkers: r.pick(EXPRESSIONS) }).then(
                (res) => {
                  queues.push(res.json().sid);
                },
              ),
            );
          }
        } else {
          writes.push(post(`/Workers/${r.pick(workers)}`, { ActivitySid: busy.sid }));
        }
      }
      if (round % 2 === 1) {
        // Renaming Busy back and forth changes what activity_name reads for its workers.
        const name = busy.friendly_name === 'Busy' ? 'Occupied' : 'Busy';
        busy.friendly_name = name;
        writes.push(post(`/Activities/${busy.sid}`, { FriendlyName: name }));
      }
      const results = await Promise.allSettled(writes);
      expect(results.filter((x) => x.status === 'rejected')).toEqual([]);
      await expectMembershipRecounted();
    }
  });
});

async function expectMembershipRecounted(): Promise<void> {
  const base = `/v1/Workspaces/${ws}`;
  const queues = (await t.request({ url: `${base}/TaskQueues?PageSize=1000` })).json().task_queues as {
    sid: string;
    target_workers: string;
  }[];
  const workerSids = (await t.request({ url: `${base}/Workers?PageSize=1000` }))
    .json()
    .workers.map((w: { sid: string }) => w.sid) as string[];
  for (const sid of workerSids) {
    const w = (await t.request({ url: `${base}/Workers/${sid}` })).json();
    const doc = workerDocument({
      sid: w.sid,
      friendlyName: w.friendly_name,
      activitySid: w.activity_sid,
      activityName: w.activity_name,
      attributes: w.attributes,
    });
    const expected = queues
      .filter((q) => matchesQueue(compileTargetWorkers(q.target_workers), doc))
      .map((q) => q.sid);
    const actual = (await t.request({ url: `${base}/TaskQueues?WorkerSid=${sid}&PageSize=1000` }))
      .json()
      .task_queues.map((q: { sid: string }) => q.sid);
    expect(actual.sort(), `queues of ${w.friendly_name} (${w.attributes}, ${w.activity_name})`).toEqual(
      expected.sort(),
    );
  }
}
