import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerInstance, WorkerPage } from 'twilio/lib/rest/taskrouter/v1/workspace/worker.js';
import { eachItem, expectRestException, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let wsSid: string;
let activity: Record<'Offline' | 'Available' | 'Unavailable', string>;
/** What `nextPage()` resolves with: the SDK's base Page of workers. */
type WorkersPage = Awaited<NonNullable<ReturnType<WorkerPage['nextPage']>>>;
const ws = (sid = wsSid) => s.taskrouter.workspaces(sid);

beforeAll(async () => {
  s = await startTestServer();
  wsSid = (await s.taskrouter.workspaces.create({ friendlyName: 'Workers' })).sid;
  const acts = await ws().activities.list();
  activity = Object.fromEntries(acts.map((a) => [a.friendlyName, a.sid])) as typeof activity;
});
afterEach(() => s.expectNoSpecViolations());
afterAll(() => s.close());

/** A fresh workspace, for tests that count what is in it. */
async function newWorkspace(name: string) {
  const w = await s.taskrouter.workspaces.create({ friendlyName: name });
  const acts = await ws(w.sid).activities.list();
  return { sid: w.sid, activity: Object.fromEntries(acts.map((a) => [a.friendlyName, a.sid])) };
}

describe('Workers through the twilio SDK', () => {
  it('creates a worker in the default activity, and fetches it', async () => {
    const created = await ws().workers.create({
      friendlyName: 'Alice',
      attributes: '{"skills":["en","es"]}',
    });
    expect(created.sid).toMatch(/^WK[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: s.account.sid,
      workspaceSid: wsSid,
      friendlyName: 'Alice',
      activityName: 'Offline',
      activitySid: activity.Offline,
      available: false,
      attributes: '{"skills":["en","es"]}',
      url: `${s.url}/v1/Workspaces/${wsSid}/Workers/${created.sid}`,
    });
    expect(created.dateStatusChanged).toEqual(created.dateCreated);
    expect(created.links.channels).toBe(`${created.url}/Channels`);
    expect((await ws().workers(created.sid).fetch()).toJSON()).toEqual(created.toJSON());

    const ready = await ws().workers.create({ friendlyName: 'Bob', activitySid: activity.Available });
    expect(ready).toMatchObject({
      activityName: 'Available',
      activitySid: activity.Available,
      available: true,
    });
    expect(ready.attributes).toBe('{}');
  });

  it('updates activity, attributes and name; date_status_changed moves only with the activity', async () => {
    const w = await ws().workers.create({ friendlyName: 'Carol' });
    const renamed = await ws().workers(w.sid).update({ friendlyName: 'Caroline', attributes: '{"level":2}' });
    expect(renamed).toMatchObject({
      friendlyName: 'Caroline',
      attributes: '{"level":2}',
      activityName: 'Offline',
    });
    expect(renamed.dateStatusChanged).toEqual(w.dateStatusChanged);

    const moved = await ws().workers(w.sid).update({ activitySid: activity.Available });
    expect(moved).toMatchObject({
      friendlyName: 'Caroline',
      activitySid: activity.Available,
      activityName: 'Available',
      available: true,
    });
    expect(moved.dateStatusChanged.getTime()).toBeGreaterThanOrEqual(w.dateStatusChanged.getTime());
    expect(moved.dateUpdated.getTime()).toBeGreaterThanOrEqual(w.dateUpdated.getTime());
    expect((await ws().workers(w.sid).fetch()).activityName).toBe('Available');
  });

  it('removes a worker', async () => {
    const w = await ws().workers.create({ friendlyName: 'Temp worker' });
    expect(await ws().workers(w.sid).remove()).toBe(true);
    await expectRestException(ws().workers(w.sid).fetch(), 404, 20404);
    await expectRestException(ws().workers(w.sid).remove(), 404, 20404);
  });

  it('honours If-Match on update and remove (412 on a stale ETag)', async () => {
    const w = await ws().workers.create({ friendlyName: 'Etag' });
    const first = await ws().workers(w.sid).fetchWithHttpInfo();
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"\S+"$/);

    const updated = await ws().workers(w.sid).updateWithHttpInfo({ ifMatch: etag, friendlyName: 'Etag 2' });
    expect(updated.statusCode).toBe(200);
    expect(updated.body.friendlyName).toBe('Etag 2');
    const newEtag = updated.headers.etag!;
    expect(newEtag).not.toBe(etag);

    await expectRestException(
      ws().workers(w.sid).update({ ifMatch: etag, friendlyName: 'Stale' }),
      412,
      20412,
    );
    await expectRestException(
      ws().workers(w.sid).update({ ifMatch: '"nope"', friendlyName: 'Stale' }),
      412,
      20412,
    );
    await expectRestException(ws().workers(w.sid).remove({ ifMatch: etag }), 412, 20412);
    expect((await ws().workers(w.sid).fetch()).friendlyName).toBe('Etag 2');

    // If-Match alone, with an empty body, changes nothing the worker shows.
    const noop = await ws().workers(w.sid).updateWithHttpInfo({ ifMatch: newEtag });
    expect(noop.statusCode).toBe(200);
    expect(noop.body).toMatchObject({ friendlyName: 'Etag 2', activitySid: w.activitySid, attributes: '{}' });
    // RejectPendingReservations is accepted (this worker has no reservations to reject).
    const rejecting = await ws().workers(w.sid).updateWithHttpInfo({ rejectPendingReservations: true });
    expect(rejecting.statusCode).toBe(200);

    expect(await ws().workers(w.sid).remove({ ifMatch: rejecting.headers.etag })).toBe(true);
    await expectRestException(ws().workers(w.sid).fetch(), 404, 20404);
  });

  it('gives attributes on fetch, and null on list items', async () => {
    const w = await ws().workers.create({ friendlyName: 'Listed', attributes: '{"skills":["de"]}' });
    const [listed] = await ws().workers.list({ friendlyName: 'Listed' });
    expect(listed!.sid).toBe(w.sid);
    expect(listed!.attributes).toBeNull();
    expect((await ws().workers(w.sid).fetch()).attributes).toBe('{"skills":["de"]}');
  });

  it('lists workers with the ActivityName, ActivitySid, Available and FriendlyName filters', async () => {
    const f = await newWorkspace('Filters');
    const names = async (opts: Parameters<ReturnType<typeof ws>['workers']['list']>[0] = {}) =>
      (await ws(f.sid).workers.list(opts)).map((w) => w.friendlyName).sort();
    await ws(f.sid).workers.create({ friendlyName: 'Ann', activitySid: f.activity.Available });
    await ws(f.sid).workers.create({ friendlyName: 'Ben', activitySid: f.activity.Available });
    await ws(f.sid).workers.create({ friendlyName: 'Cat', activitySid: f.activity.Unavailable });
    await ws(f.sid).workers.create({ friendlyName: 'Dan' });

    expect(await names()).toEqual(['Ann', 'Ben', 'Cat', 'Dan']);
    expect(await names({ activityName: 'Available' })).toEqual(['Ann', 'Ben']);
    expect(await names({ activitySid: f.activity.Unavailable })).toEqual(['Cat']);
    expect(await names({ activitySid: f.activity.Offline })).toEqual(['Dan']);
    expect(await names({ available: 'true' })).toEqual(['Ann', 'Ben']);
    expect(await names({ available: '1' })).toEqual(['Ann', 'Ben']);
    expect(await names({ available: 'false' })).toEqual(['Cat', 'Dan']);
    expect(await names({ friendlyName: 'Cat' })).toEqual(['Cat']);
    expect(await names({ activityName: 'Available', friendlyName: 'Ben' })).toEqual(['Ben']);
    expect(await names({ activityName: 'Available', available: 'false' })).toEqual([]);
    expect(await names({ activityName: 'No such activity' })).toEqual([]);
  });

  it("pages through several pages with the SDK's own iteration", async () => {
    const p = await newWorkspace('Paging');
    const created: string[] = [];
    for (let i = 1; i <= 7; i++) {
      created.push((await ws(p.sid).workers.create({ friendlyName: `Pager ${i}` })).sid);
    }
    const workers = () => ws(p.sid).workers;

    // list() follows next_page_url across four pages of two.
    const listed = await workers().list({ pageSize: 2 });
    expect(listed.map((w) => w.sid)).toEqual(created);

    // each() streams the same seven, in order.
    const streamed = await eachItem<WorkerInstance>((o) => workers().each({ pageSize: 2, ...o }));
    expect(streamed.map((w) => w.sid)).toEqual(created);
    const firstThree = await eachItem<WorkerInstance>((o) => workers().each({ pageSize: 2, limit: 3, ...o }));
    expect(firstThree.map((w) => w.sid)).toEqual(created.slice(0, 3));

    // page() + nextPage() by hand, and back with previousPage().
    const pages: string[][] = [];
    let page: WorkersPage = await workers().page({ pageSize: 2 });
    const first = page;
    for (;;) {
      pages.push(page.instances.map((w) => w.sid));
      const next = await page.nextPage();
      if (!next) break;
      page = next;
    }
    expect(pages).toEqual([created.slice(0, 2), created.slice(2, 4), created.slice(4, 6), created.slice(6)]);
    expect(first.previousPageUrl).toBeUndefined();
    const back = await page.previousPage();
    expect(back?.instances.map((w) => w.sid)).toEqual(created.slice(4, 6));

    // limit stops early, across pages too.
    expect((await workers().list({ limit: 3 })).map((w) => w.sid)).toEqual(created.slice(0, 3));
    expect((await workers().list({ limit: 5, pageSize: 2 })).map((w) => w.sid)).toEqual(created.slice(0, 5));
    expect((await workers().list({ limit: 5000 })).map((w) => w.sid)).toEqual(created);

    // Filters are carried into every next page.
    for (const sid of created.slice(0, 4)) await workers()(sid).update({ activitySid: p.activity.Available });
    const available = await workers().list({ available: 'true', pageSize: 1 });
    expect(available.map((w) => w.sid)).toEqual(created.slice(0, 4));
  });

  it('carries filters with spaces, "+", "&" and non-ASCII characters through every page', async () => {
    const p = await newWorkspace('Odd names');
    const odd = await ws(p.sid).activities.create({ friendlyName: 'R&D + Ops ü/?#', available: true });
    const inOdd: string[] = [];
    for (const name of ['Zoë & co', 'A+B', 'x y z']) {
      inOdd.push((await ws(p.sid).workers.create({ friendlyName: name, activitySid: odd.sid })).sid);
    }
    await ws(p.sid).workers.create({ friendlyName: 'Elsewhere' });
    const listed = await ws(p.sid).workers.list({ activityName: 'R&D + Ops ü/?#', pageSize: 1 });
    expect(listed.map((w) => w.sid)).toEqual(inOdd);
    expect(listed.map((w) => w.friendlyName)).toEqual(['Zoë & co', 'A+B', 'x y z']);
    expect((await ws(p.sid).workers.list({ friendlyName: 'A+B' })).map((w) => w.sid)).toEqual([inOdd[1]]);
  });

  it('keeps paging stable while workers are added', async () => {
    const p = await newWorkspace('Stable paging');
    const created: string[] = [];
    for (let i = 1; i <= 4; i++)
      created.push((await ws(p.sid).workers.create({ friendlyName: `S${i}` })).sid);
    const first = await ws(p.sid).workers.page({ pageSize: 2 });
    expect(first.instances.map((w) => w.sid)).toEqual(created.slice(0, 2));
    created.push((await ws(p.sid).workers.create({ friendlyName: 'S5' })).sid);
    const second = await first.nextPage();
    expect(second?.instances.map((w) => w.sid)).toEqual(created.slice(2, 4));
    const third = await second!.nextPage();
    expect(third?.instances.map((w) => w.sid)).toEqual(created.slice(4));
  });

  it('refuses bad parameters and duplicate names with 400 / 20001', async () => {
    const attrs = await expectRestException(
      ws().workers.create({ friendlyName: 'Bad attrs', attributes: '[1,2]' }),
      400,
      20001,
    );
    expect(attrs).toContain('Attributes');
    await expectRestException(ws().workers.create({ friendlyName: 'Bad json', attributes: '{' }), 400, 20001);
    await ws().workers.create({ friendlyName: 'Unique Dana' });
    await expectRestException(ws().workers.create({ friendlyName: 'unique dana' }), 400, 20001);
    await expectRestException(
      ws().workers.create({ friendlyName: 'Foreign', activitySid: 'WA' + '0'.repeat(32) }),
      400,
      20001,
    );
    expect((await ws().workers.list({ friendlyName: 'Foreign' })).length).toBe(0);
    // A malformed expression filter is refused, saying where it fails, never ignored.
    const expression = await expectRestException(
      ws().workers.list({ targetWorkersExpression: 'skills HAS' }),
      400,
      20001,
    );
    expect(expression).toMatch(/TargetWorkersExpression expression at \d+/);
  });

  it('answers unknown workers with 404 / 20404', async () => {
    const unknown = 'WK' + '0'.repeat(32);
    await expectRestException(ws().workers(unknown).fetch(), 404, 20404);
    await expectRestException(ws().workers(unknown).update({ friendlyName: 'x' }), 404, 20404);
    await expectRestException(ws().workers(unknown).remove(), 404, 20404);
    await expectRestException(ws().workers('WKshort').fetch(), 404, 20404);
  });
});
