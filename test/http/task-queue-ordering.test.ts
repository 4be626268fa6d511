import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

/** TaskQueues Ordering: DateCreated or DateUpdated, either way, keyset-paged both directions. */
let t: TestApp;
let clock = Date.parse('2026-02-01T00:00:00Z');
let base: string;

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(clock) });
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Queues' } })
  ).json();
  base = `/v1/Workspaces/${ws.sid}/TaskQueues`;
  const sids: string[] = [];
  for (let i = 0; i < 6; i++) {
    // Q0 and Q1 in the same second: ties go by creation.
    if (i !== 1) clock += 1000;
    sids.push((await t.request({ method: 'POST', url: base, form: { FriendlyName: `Q${i}` } })).json().sid);
  }
  // Updated later, in this order: Q3, Q0 (the rest keep their creation time).
  for (const i of [3, 0]) {
    clock += 1000;
    await t.request({ method: 'POST', url: `${base}/${sids[i]}`, form: { MaxReservedWorkers: '2' } });
  }
});
afterAll(() => t.close());

type ListPage = {
  task_queues: { friendly_name: string }[];
  meta: { next_page_url: string | null; previous_page_url: string | null };
};
const list = async (query: string): Promise<ListPage> => {
  const res = await t.request({ url: `${base}?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  expectMatchesSpec('ListTaskQueue', 200, res.json());
  return res.json();
};
const names = (p: ListPage) => p.task_queues.map((q) => q.friendly_name);
const follow = (u: string | null) => list(u!.split('?')[1]!);

/** Every page of a list, forward by next_page_url, then back from the last by previous_page_url. */
async function bothWays(query: string): Promise<{ forward: string[][]; backward: string[][] }> {
  const forward: string[][] = [];
  let page = await list(query);
  forward.push(names(page));
  while (page.meta.next_page_url) {
    page = await follow(page.meta.next_page_url);
    forward.push(names(page));
  }
  const backward: string[][] = [names(page)];
  while (page.meta.previous_page_url) {
    page = await follow(page.meta.previous_page_url);
    backward.unshift(names(page));
  }
  return { forward, backward };
}

describe('TaskQueues Ordering', () => {
  it('orders by creation or last update, either way', async () => {
    const created = ['Q0', 'Q1', 'Q2', 'Q3', 'Q4', 'Q5'];
    expect(names(await list(''))).toEqual(created);
    expect(names(await list('Ordering=DateCreated:asc'))).toEqual(created);
    expect(names(await list('Ordering=DateCreated:desc'))).toEqual([...created].reverse());
    const updated = ['Q1', 'Q2', 'Q4', 'Q5', 'Q3', 'Q0'];
    expect(names(await list('Ordering=DateUpdated:asc'))).toEqual(updated);
    expect(names(await list('Ordering=DateUpdated:desc'))).toEqual([...updated].reverse());
  });

  it('pages each order forward and back, and by Page', async () => {
    for (const [ordering, all] of [
      ['DateCreated:desc', ['Q5', 'Q4', 'Q3', 'Q2', 'Q1', 'Q0']],
      ['DateUpdated:asc', ['Q1', 'Q2', 'Q4', 'Q5', 'Q3', 'Q0']],
      ['DateUpdated:desc', ['Q0', 'Q3', 'Q5', 'Q4', 'Q2', 'Q1']],
    ] as const) {
      const { forward, backward } = await bothWays(`Ordering=${ordering}&PageSize=4`);
      expect(forward, ordering).toEqual([all.slice(0, 4), all.slice(4)]);
      expect(backward, ordering).toEqual(forward);
      expect(names(await list(`Ordering=${ordering}&PageSize=4&Page=1`)), ordering).toEqual(all.slice(4));
      const { forward: ones } = await bothWays(`Ordering=${ordering}&PageSize=1`);
      expect(ones.flat(), ordering).toEqual(all);
    }
  });

  it('combines with the filters, and refuses what it cannot read', async () => {
    expect(names(await list('Ordering=DateUpdated:desc&FriendlyName=q3'))).toEqual(['Q3']);
    for (const bad of [
      'DateUpdated',
      'DateUpdated:up',
      'FriendlyName:asc',
      'DateCreated:asc,DateUpdated:asc',
    ]) {
      const res = await t.request({ url: `${base}?Ordering=${encodeURIComponent(bad)}` });
      expectTwilioError(res.json(), 400, 20001);
      expect(res.json().message).toContain(
        'DateCreated:asc, DateCreated:desc, DateUpdated:asc, DateUpdated:desc',
      );
    }
    const mixed = await t.request({ url: `${base}?Ordering=DateUpdated:asc&PageToken=PA1` });
    expectTwilioError(mixed.json(), 400, 20001);
  });
});
