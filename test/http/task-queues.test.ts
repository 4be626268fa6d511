import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: { sid: string; default_activity_sid: string };
let available: string;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Queues' } })).json();
  const acts = (
    await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities?FriendlyName=Available` })
  ).json();
  available = acts.activities[0].sid;
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws.sid}/TaskQueues${path}`;
const create = (form: Record<string, string>) => t.request({ method: 'POST', url: url(), form });
const names = async (query: string) =>
  ((await t.request({ url: url(`?${query}`) })).json().task_queues as { friendly_name: string }[]).map(
    (q) => q.friendly_name,
  );
const worker = async (name: string, attributes: object) =>
  (
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Workers`,
      form: { FriendlyName: name, Attributes: JSON.stringify(attributes) },
    })
  ).json() as { sid: string };
const queuesOf = (workerSid: string) => names(`WorkerSid=${workerSid}`);

describe('TaskQueues', () => {
  it('creates with defaults, fetches, updates and deletes a queue, with its events', async () => {
    const created = await create({ FriendlyName: 'Sales' });
    expect(created.statusCode).toBe(201);
    const q = created.json();
    expectMatchesSpec('CreateTaskQueue', 201, q);
    expect(q).toMatchObject({
      friendly_name: 'Sales',
      target_workers: '1==1',
      max_reserved_workers: 1,
      task_order: 'FIFO',
      reservation_activity_sid: null,
      assignment_activity_sid: null,
      workspace_sid: ws.sid,
      url: `http://roster.test/v1/Workspaces/${ws.sid}/TaskQueues/${q.sid}`,
    });
    expect(q.sid).toMatch(/^WQ[0-9a-f]{32}$/);
    expect(q.links.workspace).toBe(`http://roster.test/v1/Workspaces/${ws.sid}`);

    const fetched = await t.request({ url: url(`/${q.sid}`) });
    expectMatchesSpec('FetchTaskQueue', 200, fetched.json());
    expect(fetched.json()).toEqual(q);

    const updated = await t.request({
      method: 'POST',
      url: url(`/${q.sid}`),
      form: {
        FriendlyName: 'Sales EN',
        TargetWorkers: "languages HAS 'en'",
        MaxReservedWorkers: '50',
        TaskOrder: 'LIFO',
        ReservationActivitySid: available,
        AssignmentActivitySid: available,
      },
    });
    expect(updated.statusCode).toBe(200);
    expectMatchesSpec('UpdateTaskQueue', 200, updated.json());
    expect(updated.json()).toMatchObject({
      friendly_name: 'Sales EN',
      target_workers: "languages HAS 'en'",
      max_reserved_workers: 50,
      task_order: 'LIFO',
      reservation_activity_sid: available,
      reservation_activity_name: 'Available',
      assignment_activity_sid: available,
      assignment_activity_name: 'Available',
    });
    expect(updated.json().links.assignment_activity).toBe(
      `http://roster.test/v1/Workspaces/${ws.sid}/Activities/${available}`,
    );

    expect((await t.request({ method: 'DELETE', url: url(`/${q.sid}`) })).statusCode).toBe(204);
    expect((await t.request({ url: url(`/${q.sid}`) })).statusCode).toBe(404);

    const events = (await t.store.listEvents(ws.sid, 0, 1000)).filter((e) => e.resourceSid === q.sid);
    expect(events.map((e) => e.type)).toEqual([
      'task-queue.created',
      'task-queue.updated',
      'task-queue.expression.updated',
      'task-queue.deleted',
    ]);
    expect(events[2]!.data).toMatchObject({
      target_workers: "languages HAS 'en'",
      previous_target_workers: '1==1',
    });
  });

  it('refuses bad input with 400s that say what is wrong', async () => {
    const bad = async (form: Record<string, string>, says: RegExp) => {
      const res = await create({ FriendlyName: 'Bad', ...form });
      expectTwilioError(res.json(), 400, 20001);
      expect(res.json().message).toMatch(says);
    };
    await bad({ TargetWorkers: "skills HAS 'en' AND" }, /TargetWorkers expression at \d+/);
    await bad({ MaxReservedWorkers: '0' }, /MaxReservedWorkers/);
    await bad({ MaxReservedWorkers: '51' }, /MaxReservedWorkers/);
    await bad({ TaskOrder: 'RANDOM' }, /TaskOrder/);
    await bad({ ReservationActivitySid: 'WA' + '0'.repeat(32) }, /ReservationActivitySid/);
    await bad({ AssignmentActivitySid: 'nope' }, /AssignmentActivitySid/);
    expectTwilioError((await t.request({ method: 'POST', url: url(), form: {} })).json(), 400, 20001);

    expect((await create({ FriendlyName: 'Unique' })).statusCode).toBe(201);
    const duplicate = await create({ FriendlyName: 'unique' });
    expectTwilioError(duplicate.json(), 400, 20001);
    expect(duplicate.json().message).toMatch(/already exists/);
    // Nothing of the refused writes is left behind.
    expect(await names('FriendlyName=Bad')).toEqual([]);
  });

  it('refuses to delete an activity a queue moves workers to, naming the queue', async () => {
    const acts = `/v1/Workspaces/${ws.sid}/Activities`;
    const wrapUp = (await t.request({ method: 'POST', url: acts, form: { FriendlyName: 'Wrap-up' } })).json();
    const q = (await create({ FriendlyName: 'Wrapping', AssignmentActivitySid: wrapUp.sid })).json();
    const refused = await t.request({ method: 'DELETE', url: `${acts}/${wrapUp.sid}` });
    expectTwilioError(refused.json(), 400, 20001);
    expect(refused.json().message).toContain(q.sid);
    await t.request({ method: 'DELETE', url: url(`/${q.sid}`) });
    expect((await t.request({ method: 'DELETE', url: `${acts}/${wrapUp.sid}` })).statusCode).toBe(204);
  });

  it('lists queues by FriendlyName, WorkerSid and EvaluateWorkerAttributes', async () => {
    await create({ FriendlyName: 'English', TargetWorkers: "languages HAS 'en'" });
    await create({ FriendlyName: 'Senior', TargetWorkers: 'level >= 3' });
    await create({ FriendlyName: 'Nobody', TargetWorkers: '' });
    const alice = await worker('Alice', { languages: ['en', 'fr'], level: 4 });
    const bob = await worker('Bob', { languages: ['es'], level: 1 });

    const page = (await t.request({ url: url('?PageSize=2') })).json();
    expectMatchesSpec('ListTaskQueue', 200, page);
    expect(page.meta).toMatchObject({ key: 'task_queues', page_size: 2 });
    expect(await names('FriendlyName=senior')).toEqual(['Senior']);
    expect(await queuesOf(alice.sid)).toEqual(expect.arrayContaining(['English', 'Senior', 'Unique']));
    expect(await queuesOf(alice.sid)).not.toContain('Nobody');
    expect(await queuesOf(bob.sid)).not.toContain('English');
    const evaluated = await names(
      `EvaluateWorkerAttributes=${encodeURIComponent('{"languages":["en"],"level":1}')}`,
    );
    expect(evaluated).toContain('English');
    expect(evaluated).not.toContain('Senior');
    expect(evaluated).not.toContain('Nobody');
    expect(await names(`Ordering=DateCreated:asc&FriendlyName=English`)).toEqual(['English']);
    expectTwilioError((await t.request({ url: url('?WorkerSid=WK1') })).json(), 400, 20001);
    expectTwilioError((await t.request({ url: url('?EvaluateWorkerAttributes=[1]') })).json(), 400, 20001);
  });

  it('keeps membership exact as workers, queues and activities change', async () => {
    const carol = await worker('Carol', { languages: ['de'], level: 2 });
    const byActivity = (
      await create({ FriendlyName: 'Ready now', TargetWorkers: "worker.activity_name == 'Available'" })
    ).json();
    expect(await queuesOf(carol.sid)).not.toContain('Ready now');

    const wk = (path: string, form: Record<string, string>) =>
      t.request({ method: 'POST', url: `/v1/Workspaces/${ws.sid}/Workers/${path}`, form });
    await wk(carol.sid, { ActivitySid: available });
    expect(await queuesOf(carol.sid)).toContain('Ready now');
    await wk(carol.sid, { Attributes: JSON.stringify({ languages: ['en'], level: 2 }) });
    expect(await queuesOf(carol.sid)).toEqual(expect.arrayContaining(['English', 'Ready now']));

    // Renaming the activity changes what activity_name reads.
    await t.request({
      method: 'POST',
      url: `/v1/Workspaces/${ws.sid}/Activities/${available}`,
      form: { FriendlyName: 'Ready' },
    });
    expect(await queuesOf(carol.sid)).not.toContain('Ready now');
    await t.request({
      method: 'POST',
      url: url(`/${byActivity.sid}`),
      form: { TargetWorkers: "activity_name == 'Ready'" },
    });
    expect(await queuesOf(carol.sid)).toContain('Ready now');

    await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws.sid}/Workers/${carol.sid}` });
    expect(await queuesOf(carol.sid)).toEqual([]);
  });
});

describe('Workers list filters that read queues and expressions', () => {
  it('filters by TargetWorkersExpression (attributes and worker fields), TaskQueueSid and TaskQueueName', async () => {
    const w = await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Filters' } });
    const wsSid = w.json().sid as string;
    const base = `/v1/Workspaces/${wsSid}`;
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await t.request({
        method: 'POST',
        url: `${base}/Workers`,
        form: {
          FriendlyName: `Agent ${i}`,
          Attributes: JSON.stringify({ level: i, skills: i % 2 ? ['en'] : ['es'] }),
        },
      });
      made.push(res.json().sid);
    }
    const queue = (
      await t.request({
        method: 'POST',
        url: `${base}/TaskQueues`,
        form: { FriendlyName: 'English speakers', TargetWorkers: "skills HAS 'en'" },
      })
    ).json();
    const list = async (query: string) => {
      const res = await t.request({ url: `${base}/Workers?${query}` });
      expect(res.statusCode, res.body).toBe(200);
      expectMatchesSpec('ListWorker', 200, res.json());
      return res.json() as {
        workers: { friendly_name: string }[];
        meta: { next_page_url: string | null; previous_page_url: string | null };
      };
    };
    const namesOf = (page: { workers: { friendly_name: string }[] }) =>
      page.workers.map((k) => k.friendly_name);
    const expr = (e: string) => `TargetWorkersExpression=${encodeURIComponent(e)}`;

    expect(namesOf(await list(expr('level >= 4')))).toEqual(['Agent 4', 'Agent 5', 'Agent 6']);
    expect(namesOf(await list(expr("worker.friendly_name == 'Agent 2'")))).toEqual(['Agent 2']);
    expect(namesOf(await list(expr(`sid == '${made[3]}'`)))).toEqual(['Agent 3']);
    expect(namesOf(await list(expr("activity_name == 'Offline' AND level < 2")))).toEqual([
      'Agent 0',
      'Agent 1',
    ]);
    expect(namesOf(await list(`${expr('level >= 1')}&FriendlyName=agent%205`))).toEqual(['Agent 5']);
    expect(namesOf(await list(`TaskQueueSid=${queue.sid}`))).toEqual(['Agent 1', 'Agent 3', 'Agent 5']);
    expect(namesOf(await list('TaskQueueName=english%20speakers'))).toEqual([
      'Agent 1',
      'Agent 3',
      'Agent 5',
    ]);
    expect(namesOf(await list(`TaskQueueSid=${queue.sid}&${expr('level > 1')}`))).toEqual([
      'Agent 3',
      'Agent 5',
    ]);
    expect(namesOf(await list('TaskQueueName=nothing'))).toEqual([]);

    // Pages of a filtered list: each page full, following next_page_url and back.
    const first = await list(`${expr('level >= 1')}&PageSize=2`);
    expect(namesOf(first)).toEqual(['Agent 1', 'Agent 2']);
    const second = await list(first.meta.next_page_url!.split('?')[1]!);
    expect(namesOf(second)).toEqual(['Agent 3', 'Agent 4']);
    const back = await list(second.meta.previous_page_url!.split('?')[1]!);
    expect(namesOf(back)).toEqual(['Agent 1', 'Agent 2']);
    expect(namesOf(await list(`${expr('level >= 1')}&PageSize=2&Page=2`))).toEqual(['Agent 5', 'Agent 6']);

    const bad = await t.request({ url: `${base}/Workers?${expr('level >=')}` });
    expectTwilioError(bad.json(), 400, 20001);
    expect(bad.json().message).toMatch(/TargetWorkersExpression expression at \d+/);
    expectTwilioError((await t.request({ url: `${base}/Workers?TaskQueueSid=WQ12` })).json(), 400, 20001);
  });
});
