import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectMatchesSpec, expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: string;
let sales: string;
let support: string;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Flows' } })).json()
    .sid;
  const queue = async (name: string) =>
    (
      await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/TaskQueues`,
        form: { FriendlyName: name },
      })
    ).json().sid as string;
  sales = await queue('Sales');
  support = await queue('Support');
});
afterAll(() => t.close());

const url = (path = '') => `/v1/Workspaces/${ws}/Workflows${path}`;
const configuration = (filterQueue: string, defaultQueue: string) =>
  // Spacing and key order as a client might send them: returned exactly so.
  `{"task_routing": {"filters": [{"filter_friendly_name": "Sales", "expression": "type == 'sales'",
  "targets": [{"queue": "${filterQueue}", "timeout": 30}, {"timeout": 60}]}],
  "default_filter": {"queue": "${defaultQueue}"}}}`;

describe('Workflows', () => {
  it('creates with defaults, fetches, updates, lists and deletes a workflow, with its events', async () => {
    const created = await t.request({
      method: 'POST',
      url: url(),
      form: { FriendlyName: 'Inbound', Configuration: configuration(sales, support) },
    });
    expect(created.statusCode, created.body).toBe(201);
    const f = created.json();
    expectMatchesSpec('CreateWorkflow', 201, f);
    expect(f).toMatchObject({
      friendly_name: 'Inbound',
      configuration: configuration(sales, support),
      task_reservation_timeout: 120,
      assignment_callback_url: null,
      fallback_assignment_callback_url: null,
      document_content_type: 'application/json',
      workspace_sid: ws,
      url: `http://roster.test${url(`/${f.sid}`)}`,
    });
    expect(f.sid).toMatch(/^WW[0-9a-f]{32}$/);
    expect((await t.request({ url: url(`/${f.sid}`) })).json()).toEqual(f);

    const updated = await t.request({
      method: 'POST',
      url: url(`/${f.sid}`),
      form: {
        FriendlyName: 'Inbound calls',
        Configuration: configuration(support, sales),
        AssignmentCallbackUrl: 'https://example.com/assign',
        FallbackAssignmentCallbackUrl: 'https://example.com/fallback',
        TaskReservationTimeout: '86400',
        ReEvaluateTasks: 'true',
      },
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expectMatchesSpec('UpdateWorkflow', 200, updated.json());
    expect(updated.json()).toMatchObject({
      friendly_name: 'Inbound calls',
      configuration: configuration(support, sales),
      assignment_callback_url: 'https://example.com/assign',
      fallback_assignment_callback_url: 'https://example.com/fallback',
      task_reservation_timeout: 86400,
    });

    const listed = (await t.request({ url: url('?FriendlyName=inbound%20calls') })).json();
    expectMatchesSpec('ListWorkflow', 200, listed);
    expect(listed.workflows.map((w: { sid: string }) => w.sid)).toEqual([f.sid]);
    expect((await t.request({ url: url('?FriendlyName=Other') })).json().workflows).toEqual([]);

    expect((await t.request({ method: 'DELETE', url: url(`/${f.sid}`) })).statusCode).toBe(204);
    expect((await t.request({ url: url(`/${f.sid}`) })).statusCode).toBe(404);
    const events = (await t.store.listEvents(ws, 0, 1000)).filter((e) => e.resourceSid === f.sid);
    expect(events.map((e) => e.type)).toEqual(['workflow.created', 'workflow.updated', 'workflow.deleted']);
  });

  it('refuses a bad configuration with a 400 naming the path inside it, and bad parameters', async () => {
    const bad = async (form: Record<string, string>, says: RegExp) => {
      const res = await t.request({ method: 'POST', url: url(), form: { FriendlyName: 'Bad', ...form } });
      expectTwilioError(res.json(), 400, 20001);
      expect(res.json().message).toMatch(says);
    };
    const missing = 'WQ' + '0'.repeat(32);
    await bad(
      { Configuration: configuration(missing, support) },
      /task_routing\.filters\[0\]\.targets\[0\]\.queue/,
    );
    await bad({ Configuration: configuration(sales, missing) }, /task_routing\.default_filter\.queue/);
    await bad({ Configuration: '{"task_routing":' }, /not valid JSON/);
    await bad({}, /Configuration/);
    const good = configuration(sales, support);
    await bad({ Configuration: good, TaskReservationTimeout: '0' }, /TaskReservationTimeout/);
    await bad({ Configuration: good, TaskReservationTimeout: '86401' }, /TaskReservationTimeout/);
    await bad({ Configuration: good, AssignmentCallbackUrl: 'ftp://x' }, /AssignmentCallbackUrl/);
    expect((await t.request({ url: url('?FriendlyName=Bad') })).json().workflows).toEqual([]);
  });

  it('refuses to delete a TaskQueue a workflow routes to, naming the workflow', async () => {
    const f = (
      await t.request({
        method: 'POST',
        url: url(),
        form: { FriendlyName: 'Holds Sales', Configuration: configuration(sales, sales) },
      })
    ).json();
    const refused = await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/TaskQueues/${sales}` });
    expectTwilioError(refused.json(), 400, 20001);
    expect(refused.json().message).toContain(f.sid);
    expect(refused.json().message).toContain('Holds Sales');
    expect((await t.request({ url: `/v1/Workspaces/${ws}/TaskQueues/${sales}` })).statusCode).toBe(200);

    await t.request({ method: 'DELETE', url: url(`/${f.sid}`) });
    expect(
      (await t.request({ method: 'DELETE', url: `/v1/Workspaces/${ws}/TaskQueues/${sales}` })).statusCode,
    ).toBe(204);
  });
});
