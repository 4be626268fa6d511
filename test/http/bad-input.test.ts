import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
let ws: string;

beforeAll(async () => {
  t = await createTestApp();
  ws = (await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'Input' } })).json()
    .sid;
});
afterAll(() => t.close());

/** Everything the account can see, so a refused request can be shown to have changed nothing. */
async function snapshot() {
  const workspaces = (await t.request({ url: '/v1/Workspaces?PageSize=1000' })).json().workspaces;
  const workers = (await t.request({ url: `/v1/Workspaces/${ws}/Workers?PageSize=1000` })).json().workers;
  const stats = (await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics` })).json();
  return { workspaces, workers, stats };
}

function raw(method: 'POST' | 'GET', url: string, payload: string | Buffer, contentType?: string) {
  const headers: Record<string, string> = { authorization: t.account.auth };
  if (contentType) headers['content-type'] = contentType;
  return t.app.inject({ method, url, payload, headers });
}

describe('bad input never yields a 500 or a partial write', () => {
  it('refuses malformed bodies with Twilio-style errors and changes nothing', async () => {
    const before = await snapshot();
    const workers = `/v1/Workspaces/${ws}/Workers`;
    const form = 'application/x-www-form-urlencoded';
    const cases: [string, Promise<{ statusCode: number; json(): unknown }>, number][] = [
      ['bad escape', raw('POST', workers, 'FriendlyName=%E0%A4%A', form), 400],
      ['invalid UTF-8 escape', raw('POST', workers, 'FriendlyName=%FF%FE', form), 400],
      ['invalid UTF-8 bytes', raw('POST', workers, Buffer.from([0x46, 0x3d, 0xff, 0xfe]), form), 400],
      ['malformed JSON', raw('POST', workers, '{"FriendlyName":', 'application/json'), 400],
      ['JSON array', raw('POST', workers, '[1,2]', 'application/json'), 400],
      ['JSON nested value', raw('POST', workers, '{"FriendlyName":{"a":1}}', 'application/json'), 400],
      [
        'JSON __proto__',
        raw('POST', workers, '{"__proto__":{"x":1},"FriendlyName":"p"}', 'application/json'),
        400,
      ],
      ['unknown content type', raw('POST', workers, 'FriendlyName=x', 'text/plain'), 415],
      ['xml', raw('POST', workers, '<FriendlyName>x</FriendlyName>', 'application/xml'), 415],
      ['oversized body', raw('POST', workers, 'FriendlyName=' + 'a'.repeat(2 * 1024 * 1024), form), 413],
      ['repeated parameter', raw('POST', workers, 'FriendlyName=a&FriendlyName=b', form), 400],
      ['very long name', raw('POST', workers, 'FriendlyName=' + 'n'.repeat(10_000), form), 400],
      [
        'deep attributes',
        raw(
          'POST',
          workers,
          'FriendlyName=deep&Attributes=' + encodeURIComponent('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)),
          form,
        ),
        400,
      ],
      ['wrong SID kind', raw('POST', workers, `FriendlyName=k&ActivitySid=WK${'0'.repeat(32)}`, form), 400],
      ['empty body', raw('POST', workers, '', form), 400],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      expect(res.statusCode, name).toBe(status);
      expectTwilioError(res.json(), status, 20001);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('accepts a JSON object body with PascalCase names', async () => {
    const res = await raw(
      'POST',
      `/v1/Workspaces/${ws}/Workers`,
      '{"FriendlyName":"json-worker"}',
      'application/json',
    );
    expect(res.statusCode).toBe(201);
    expect(res.json().friendly_name).toBe('json-worker');
  });

  it('stores SQL-looking and unusual strings verbatim', async () => {
    const names = ["Robert'); DROP TABLE workers;--", '%_*', '名前 😀', 'a\u0000b'];
    for (const FriendlyName of names) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/Workspaces/${ws}/Workers`,
        form: { FriendlyName },
      });
      expect(res.statusCode, FriendlyName).toBe(201);
      expect(res.json().friendly_name).toBe(FriendlyName);
      const found = await t.request({
        url: `/v1/Workspaces/${ws}/Workers?FriendlyName=${encodeURIComponent(FriendlyName)}`,
      });
      expect(found.json().workers.map((w: { friendly_name: string }) => w.friendly_name)).toEqual([
        FriendlyName,
      ]);
    }
    const like = await t.request({ url: `/v1/Workspaces/${ws}/Workers?FriendlyName=%25` });
    expect(like.json().workers).toEqual([]);
  });

  it('handles paging parameters', async () => {
    const url = `/v1/Workspaces/${ws}/Workers`;
    const huge = await t.request({ url: `${url}?PageSize=99999999` });
    expect(huge.statusCode).toBe(200);
    expect(huge.json().meta.page_size).toBe(1000);
    for (const q of [
      'PageSize=0',
      'PageSize=-5',
      'PageSize=abc',
      'PageSize=1e400',
      'Page=-1',
      'PageToken=garbage',
      'PageToken=PA' + 'z'.repeat(40),
    ]) {
      const res = await t.request({ url: `${url}?${q}` });
      expect(res.statusCode, q).toBe(400);
      expectTwilioError(res.json(), 400, 20001);
    }
  });

  it('answers malformed URLs and SIDs of the wrong kind without a 500', async () => {
    for (const url of [
      '/v1/Workspaces/%ZZ',
      `/v1/Workspaces/WK${'0'.repeat(32)}`,
      `/v1/Workspaces/${ws}/Workers/WS${'0'.repeat(32)}`,
      `/v1/Workspaces/${ws}/Activities/${'x'.repeat(2000)}`,
      `/v1/Workspaces/${ws}/Workers/RealTimeStatistics?TaskChannel=${'v'.repeat(500)}`,
      "/v1/Workspaces/' OR 1=1 --",
    ]) {
      const res = await t.request({ url });
      expect([400, 404], url.slice(0, 80)).toContain(res.statusCode);
      const body = res.json();
      expectTwilioError(body, res.statusCode, res.statusCode === 404 ? 20404 : 20001);
    }
  });

  it('serves concurrent writes without losing any', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: `c${i}` } }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    const dupes = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.request({ method: 'POST', url: `/v1/Workspaces/${ws}/Workers`, form: { FriendlyName: 'same' } }),
      ),
    );
    expect(dupes.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(dupes.filter((r) => r.statusCode === 400)).toHaveLength(9);
    const stats = (await t.request({ url: `/v1/Workspaces/${ws}/Workers/RealTimeStatistics` })).json();
    const listed = (await t.request({ url: `/v1/Workspaces/${ws}/Workers?PageSize=1000` })).json().workers;
    expect(stats.total_workers).toBe(listed.length);
  });
});
