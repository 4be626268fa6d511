import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, createTestApp, type TestApp } from '../helpers/app.js';
import { expectTwilioError } from '../helpers/spec.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

function expectStandardHeaders(headers: Record<string, unknown>): void {
  for (const h of [
    'access-control-allow-origin',
    'access-control-allow-methods',
    'access-control-allow-headers',
    'access-control-allow-credentials',
    'access-control-expose-headers',
    'x-rate-limit-limit',
    'x-rate-limit-remaining',
    'x-rate-limit-config',
  ]) {
    expect(headers[h], h).toBeDefined();
  }
}

describe('authentication', () => {
  it.each([
    ['no header', undefined],
    ['wrong token', basicAuth('AC' + '0'.repeat(32), 'nope')],
    ['bearer', 'Bearer abc'],
    ['not base64', 'Basic !!!'],
    ['no colon', 'Basic ' + Buffer.from('ACabc').toString('base64')],
  ])('refuses %s with 401 / 20003', async (_name, authorization) => {
    for (const [method, url] of [
      ['GET', '/v1/Workspaces'],
      ['POST', '/v1/Workspaces'],
      ['GET', `/v1/Workspaces/WS${'0'.repeat(32)}/Workers/RealTimeStatistics`],
      ['DELETE', `/v1/Workspaces/WS${'0'.repeat(32)}`],
      ['GET', '/v1/Nothing/Here'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expectTwilioError(res.json(), 401, 20003);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Twilio API"');
      expectStandardHeaders(res.headers);
    }
  });

  it("refuses another account's token", async () => {
    const other = await t.newAccount();
    const res = await t.app.inject({
      url: '/v1/Workspaces',
      headers: { authorization: basicAuth(t.account.sid, other.token) },
    });
    expect(res.statusCode).toBe(401);
  });

  it('answers CORS preflight without credentials', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/Workspaces/WS00000000000000000000000000000000/Workers/RealTimeStatistics',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers['access-control-allow-headers'])).toContain('Authorization');
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
  });

  it('puts CORS and rate-limit headers on every response', async () => {
    const ok = await t.request({ url: '/v1/Workspaces' });
    expect(ok.statusCode).toBe(200);
    expectStandardHeaders(ok.headers);
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    expect(ok.headers['x-rate-limit-config']).toBe('Read');
    const created = await t.request({ method: 'POST', url: '/v1/Workspaces', form: { FriendlyName: 'h' } });
    expectStandardHeaders(created.headers);
    expect(created.headers['x-rate-limit-config']).toBe('Write');
    const missing = await t.request({ url: '/v1/Workspaces/WS' + '1'.repeat(32) });
    expect(missing.statusCode).toBe(404);
    expectStandardHeaders(missing.headers);
    const unknownRoute = await t.request({ url: '/v2/Other' });
    expect(unknownRoute.statusCode).toBe(404);
    expectTwilioError(unknownRoute.json(), 404, 20404);
    expectStandardHeaders(unknownRoute.headers);
  });
});

describe('rate limiting', () => {
  it('gives each account a budget per kind of request, then 429 / 20429 with Retry-After', async () => {
    const limited = await createTestApp({ rateLimit: { readsPerSecond: 3, writesPerSecond: 2 } });
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await limited.request({ url: '/v1/Workspaces' });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-rate-limit-limit']).toBe('3');
        remaining.push(String(res.headers['x-rate-limit-remaining']));
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const over = await limited.request({ url: '/v1/Workspaces' });
      expect(over.statusCode).toBe(429);
      expectTwilioError(over.json(), 429, 20429);
      expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);

      // Writes have their own budget, and so does every other account.
      const write = await limited.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'w' },
      });
      expect(write.statusCode).toBe(201);
      const other = await limited.newAccount();
      expect((await limited.request({ url: '/v1/Workspaces', as: other })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
