import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSpecHook, specPath, type SpecHook } from '../helpers/spec-hook.js';

/** The checker itself, against a stand-in app whose routes answer right or wrong on purpose. */
let app: FastifyInstance;
let hook: SpecHook;
const ws = 'WS' + '1'.repeat(32);
const account = 'AC' + '3'.repeat(32);

const activityJson = {
  account_sid: account,
  available: true,
  date_created: '2024-01-01T00:00:00Z',
  date_updated: '2024-01-01T00:00:00Z',
  friendly_name: 'Available',
  sid: 'WA' + '4'.repeat(32),
  workspace_sid: ws,
  url: `http://x.test/v1/Workspaces/${ws}/Activities/WA${'4'.repeat(32)}`,
  links: { workspace: `http://x.test/v1/Workspaces/${ws}` },
};

beforeAll(async () => {
  app = Fastify();
  hook = installSpecHook(app);
  const base = '/v1/Workspaces/:WorkspaceSid/Activities';
  app.get(`${base}/:Sid`, async (req) => {
    const { Sid } = req.params as { Sid: string };
    if (Sid.endsWith('extra')) return { ...activityJson, colour: 'blue' };
    if (Sid.endsWith('badtype')) return { ...activityJson, available: 'yes' };
    return activityJson;
  });
  app.post(base, async (_req, reply) => reply.code(200).send(activityJson)); // the spec says 201
  app.delete(`${base}/:Sid`, async (_req, reply) => reply.code(204).send());
  app.get('/v1/Workspaces/:WorkspaceSid/Gadgets', async () => ({ gadgets: [] }));
  app.get('/v1/Workspaces/:WorkspaceSid/Workers', async () => ({
    workers: [],
    meta: { page: 0, page_size: 50, url: 'http://x.test/', key: 'workers', extra_meta: 1 },
  }));
  app.get('/v1/errors/:kind', async (req, reply) => {
    const { kind } = req.params as { kind: string };
    const code = 20404;
    const good = {
      code,
      message: 'nope',
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: 404,
    };
    if (kind === 'good') return reply.code(404).send(good);
    if (kind === 'typed') return reply.code(404).send({ ...good, type: 'x', title: 'y' });
    if (kind === 'status') return reply.code(400).send(good);
    return reply.code(500).type('text/plain').send('boom');
  });
  await app.ready();
});
afterAll(() => app.close());

async function violationsOf(method: 'GET' | 'POST' | 'DELETE', url: string): Promise<string[]> {
  hook.take();
  const res = await app.inject({ method, url });
  expect(res.statusCode).toBeLessThan(600);
  return hook.take();
}

describe('the spec hook', () => {
  it('maps Fastify route URLs to spec paths', () => {
    expect(specPath('/v1/Workspaces/:WorkspaceSid/Workers/:Sid')).toBe(
      '/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}',
    );
    expect(specPath('/v1/Workspaces/:WorkspaceSid/Workers/RealTimeStatistics')).toBe(
      '/v1/Workspaces/{WorkspaceSid}/Workers/RealTimeStatistics',
    );
  });

  it('passes responses that match the spec', async () => {
    expect(await violationsOf('GET', `/v1/Workspaces/${ws}/Activities/WA1`)).toEqual([]);
    expect(await violationsOf('DELETE', `/v1/Workspaces/${ws}/Activities/WA1`)).toEqual([]);
    expect(await violationsOf('GET', '/v1/errors/good')).toEqual([]);
  });

  it('reports fields the spec lacks, also inside nested objects, and wrong types', async () => {
    expect(await violationsOf('GET', `/v1/Workspaces/${ws}/Activities/WAextra`)).toEqual([
      expect.stringContaining('FetchActivity 200: $.colour is not in the spec'),
    ]);
    expect(await violationsOf('GET', `/v1/Workspaces/${ws}/Workers`)).toEqual([
      expect.stringContaining('ListWorker 200: $.meta.extra_meta is not in the spec'),
    ]);
    expect(await violationsOf('GET', `/v1/Workspaces/${ws}/Activities/WAbadtype`)).toEqual([
      expect.stringContaining('/available must be boolean'),
    ]);
  });

  it('reports statuses and routes the spec does not have', async () => {
    expect(await violationsOf('POST', `/v1/Workspaces/${ws}/Activities`)).toEqual([
      expect.stringContaining('CreateActivity answered 200, a status the spec does not list'),
    ]);
    expect(await violationsOf('GET', `/v1/Workspaces/${ws}/Gadgets`)).toEqual([
      expect.stringContaining('no operation in the spec for GET /v1/Workspaces/{WorkspaceSid}/Gadgets'),
    ]);
  });

  it('reports error bodies that are not exactly Twilio’s, naming the request and the test', async () => {
    const typed = await violationsOf('GET', '/v1/errors/typed');
    expect(typed).toEqual([
      expect.stringContaining('error body keys are [code, message, more_info, status, title, type]'),
    ]);
    expect(typed[0]).toContain('GET /v1/errors/typed → 404');
    expect(typed[0]).toContain('reports error bodies that are not exactly');
    expect(await violationsOf('GET', '/v1/errors/status')).toEqual([
      expect.stringContaining('error body status 404 is not the HTTP status'),
    ]);
    expect(await violationsOf('GET', '/v1/errors/text')).toEqual([
      expect.stringContaining('error response has Content-Type "text/plain'),
    ]);
  });

  it('leaves the response itself alone', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/Workspaces/${ws}/Activities/WAextra` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ colour: 'blue' });
    hook.take();
  });
});
