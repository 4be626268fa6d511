import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let clock = Date.parse('2026-01-01T00:00:00Z');
let base: string;

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(clock) });
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Order' } })
  ).json();
  base = `/v1/Workspaces/${ws.sid}/Workers`;
  const available = (
    await t.request({ url: `/v1/Workspaces/${ws.sid}/Activities?FriendlyName=Available` })
  ).json().activities[0].sid;
  const sids: string[] = [];
  for (let i = 0; i < 6; i++) {
    clock += 1000;
    const form = { FriendlyName: `W${i}`, Attributes: JSON.stringify({ even: i % 2 === 0 }) };
    sids.push((await t.request({ method: 'POST', url: base, form })).json().sid);
  }
  // Status changes later, in this order: W4, W1 (the rest keep their creation time).
  for (const i of [4, 1]) {
    clock += 1000;
    await t.request({ method: 'POST', url: `${base}/${sids[i]}`, form: { ActivitySid: available } });
  }
});
afterAll(() => t.close());

type ListPage = {
  workers: { friendly_name: string }[];
  meta: { next_page_url: string | null; previous_page_url: string | null };
};
const list = async (query: string): Promise<ListPage> => {
  const res = await t.request({ url: `${base}?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  expectMatchesSpec('ListWorker', 200, res.json());
  return res.json();
};
const names = (p: ListPage) => p.workers.map((w) => w.friendly_name);
const follow = (u: string | null) => list(u!.split('?')[1]!);

describe('Workers Ordering=DateStatusChanged', () => {
  it('orders by the time of the last activity change, both ways, and pages forward and back', async () => {
    const asc = ['W0', 'W2', 'W3', 'W5', 'W4', 'W1'];
    expect(names(await list('Ordering=DateStatusChanged:asc'))).toEqual(asc);
    expect(names(await list('Ordering=DateStatusChanged:desc'))).toEqual([...asc].reverse());

    const first = await list('Ordering=DateStatusChanged:desc&PageSize=4');
    expect(names(first)).toEqual(['W1', 'W4', 'W5', 'W3']);
    expect(first.meta.previous_page_url).toBeNull();
    const second = await follow(first.meta.next_page_url);
    expect(names(second)).toEqual(['W2', 'W0']);
    expect(second.meta.next_page_url).toBeNull();
    expect(names(await follow(second.meta.previous_page_url))).toEqual(['W1', 'W4', 'W5', 'W3']);
    expect(names(await list('Ordering=DateStatusChanged:asc&PageSize=4&Page=1'))).toEqual(['W4', 'W1']);
  });

  it('combines with TargetWorkersExpression, and refuses what it cannot read', async () => {
    const even = `TargetWorkersExpression=${encodeURIComponent('even == true')}`;
    const first = await list(`Ordering=DateStatusChanged:desc&${even}&PageSize=2`);
    expect(names(first)).toEqual(['W4', 'W2']);
    expect(names(await follow(first.meta.next_page_url))).toEqual(['W0']);
    expectTwilioError((await t.request({ url: `${base}?Ordering=DateStatusChanged` })).json(), 400, 20001);
    const mixed = await t.request({ url: `${base}?Ordering=DateStatusChanged:asc&PageToken=PA1` });
    expectTwilioError(mixed.json(), 400, 20001);
  });

  it('reads Ordering as Attribute:asc|desc: one key, lower-case direction; empty is creation order', async () => {
    expect(names(await list('Ordering='))).toEqual(['W0', 'W1', 'W2', 'W3', 'W4', 'W5']);
    for (const bad of [
      'DateStatusChanged:ASC',
      'DateStatusChanged:asc,DateCreated:asc',
      'DateStatusChanged:asc:x',
      'FriendlyName:asc',
      ':asc',
    ]) {
      const res = await t.request({ url: `${base}?Ordering=${encodeURIComponent(bad)}` });
      expectTwilioError(res.json(), 400, 20001);
      expect(res.json().message, bad).toContain('DateStatusChanged:asc, DateStatusChanged:desc');
    }
  });
});
