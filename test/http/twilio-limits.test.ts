import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectTwilioError } from '../helpers/spec.js';

/**
 * Twilio's limits: capacity 50 per worker channel, 100 activities and 15 task channels per
 * workspace. Enforced by default with a 400 that names the limit; ROSTER_TWILIO_LIMITS=off
 * (`twilioLimits: false`) lifts them. Each describe has an app of its own, one per setting.
 */

async function setUp(t: TestApp) {
  const ws = (
    await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Limits' } })
  ).json().sid as string;
  const worker = (
    await t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: 'W' } })
  ).json().sid as string;
  return { ws, worker };
}

const post = (t: TestApp, url: string, form: Record<string, string | undefined>) =>
  t.request({ method: 'POST', url, form });

/** Creates activities (or task channels) until the workspace has `total`; each must succeed. */
async function fill(t: TestApp, ws: string, kind: 'Activities' | 'TaskChannels', total: number) {
  const key = kind === 'Activities' ? 'activities' : 'channels';
  const have = (await t.request({ url: `/v1/Workspaces/${ws}/${kind}?PageSize=1000` })).json()[key].length;
  for (let i = have; i < total; i++) {
    const form =
      kind === 'Activities' ? { FriendlyName: `a${i}` } : { FriendlyName: `c${i}`, UniqueName: `c${i}` };
    const res = await post(t, `/v1/Workspaces/${ws}/${kind}`, form);
    expect(res.statusCode, res.body).toBe(201);
  }
}

describe("Twilio's limits, by default", () => {
  let t: TestApp;
  let ws: string;
  let worker: string;
  beforeAll(async () => {
    t = await createTestApp();
    ({ ws, worker } = await setUp(t));
  });
  afterAll(() => t.close());

  it('allows worker channel capacity up to 50, and refuses 51 naming the limit', async () => {
    const url = `/v1/Workspaces/${ws}/Workers/${worker}/Channels/voice`;
    const ok = await post(t, url, { Capacity: '50' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().configured_capacity).toBe(50);
    const over = await post(t, url, { Capacity: '51', Available: 'false' });
    expect(over.statusCode).toBe(400);
    expectTwilioError(over.json(), 400, 20001);
    expect(over.json().message).toMatch(/Capacity.*at most 50.*ROSTER_TWILIO_LIMITS=off/);
    // Nothing of the refused update was applied.
    expect((await t.request({ url })).json()).toMatchObject({ configured_capacity: 50, available: true });
  });

  it('allows 100 activities in a workspace, and refuses the 101st', async () => {
    await fill(t, ws, 'Activities', 100);
    const over = await post(t, `/v1/Workspaces/${ws}/Activities`, { FriendlyName: 'One too many' });
    expect(over.statusCode).toBe(400);
    expectTwilioError(over.json(), 400, 20001);
    expect(over.json().message).toMatch(/at most 100 activities.*ROSTER_TWILIO_LIMITS=off/);
    const listed = (await t.request({ url: `/v1/Workspaces/${ws}/Activities?PageSize=1000` })).json();
    expect(listed.activities).toHaveLength(100);
    // Deleting one makes room again.
    const last = listed.activities.at(-1).sid as string;
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/Activities/${last}` })).statusCode,
    ).toBe(204);
    expect(
      (await post(t, `/v1/Workspaces/${ws}/Activities`, { FriendlyName: 'Room again' })).statusCode,
    ).toBe(201);
  });

  it('allows 15 task channels in a workspace (the 5 it starts with included), and refuses the 16th', async () => {
    await fill(t, ws, 'TaskChannels', 15);
    const over = await post(t, `/v1/Workspaces/${ws}/TaskChannels`, {
      FriendlyName: 'More',
      UniqueName: 'more',
    });
    expect(over.statusCode).toBe(400);
    expectTwilioError(over.json(), 400, 20001);
    expect(over.json().message).toMatch(/at most 15 task channels.*ROSTER_TWILIO_LIMITS=off/);
    expect((await t.request({ url: `/v1/Workspaces/${ws}/TaskChannels/more` })).statusCode).toBe(404);
  });

  it('lets exactly one of several concurrent creates take the last place', async () => {
    for (const kind of ['Activities', 'TaskChannels'] as const) {
      const { ws: fresh } = await setUp(t);
      const limit = kind === 'Activities' ? 100 : 15;
      await fill(t, fresh, kind, limit - 1);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(t, `/v1/Workspaces/${fresh}/${kind}`, {
            FriendlyName: `race${i}`,
            UniqueName: kind === 'TaskChannels' ? `race${i}` : undefined,
          }),
        ),
      );
      expect(results.map((r) => r.statusCode).sort(), kind).toEqual([201, ...Array<number>(19).fill(400)]);
      const key = kind === 'Activities' ? 'activities' : 'channels';
      const listed = (await t.request({ url: `/v1/Workspaces/${fresh}/${kind}?PageSize=1000` })).json();
      expect(listed[key], kind).toHaveLength(limit);
    }
  });
});

describe("Twilio's limits, lifted (ROSTER_TWILIO_LIMITS=off)", () => {
  let t: TestApp;
  let ws: string;
  let worker: string;
  beforeAll(async () => {
    t = await createTestApp({ twilioLimits: false });
    ({ ws, worker } = await setUp(t));
  });
  afterAll(() => t.close());

  it("allows capacity beyond 50 up to Roster's own 1000", async () => {
    const url = `/v1/Workspaces/${ws}/Workers/${worker}/Channels/voice`;
    const big = await post(t, url, { Capacity: '1000' });
    expect(big.statusCode).toBe(200);
    expect(big.json().configured_capacity).toBe(1000);
    const over = await post(t, url, { Capacity: '1001' });
    expect(over.statusCode).toBe(400);
    expectTwilioError(over.json(), 400, 20001);
  });

  it('allows more than 100 activities and 15 task channels', async () => {
    await fill(t, ws, 'Activities', 101);
    await fill(t, ws, 'TaskChannels', 16);
  });
});
