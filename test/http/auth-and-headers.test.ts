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
    'access-control-expose-headers',
    'x-rate-limit-config',
  ]) {
    expect(headers[h], h).toBeDefined();
  }
  // Browsers keep credentials to themselves unless told otherwise; only trusted origins are.
  expect(headers['access-control-allow-credentials']).toBeUndefined();
  expect(headers['access-control-allow-origin']).toBe('*');
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
      // API clients get Twilio's challenge.
      expect(res.headers['www-authenticate']).toBe('Basic realm="Twilio API"');
      expectStandardHeaders(res.headers);
    }
  });

  it('keeps nothing of made-up, well-formed account SIDs, and still answers the real account from memory', async () => {
    // The SQLite store's read cache (PostgreSQL keeps none): what it holds is looked at directly.
    const cache = (t.store as unknown as { cache?: Map<string, unknown> }).cache;
    for (let i = 0; i < 2_000; i++) {
      const res = await t.app.inject({
        url: '/v1/Workspaces',
        headers: { authorization: basicAuth(`AC${i.toString(16).padStart(32, 'f')}`, 'guess') },
      });
      expect(res.statusCode).toBe(401);
      if (cache) expect(cache.size).toBeLessThan(10);
    }
    expect((await t.request({ url: '/v1/Workspaces' })).statusCode).toBe(200);
    if (cache) expect([...cache.keys()]).toContain(`account|${t.account.sid}`);
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
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
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
    // No rate limit here: no budget shown, rather than "0 remaining".
    for (const res of [ok, created, missing, unknownRoute]) {
      expect(res.headers['x-rate-limit-limit']).toBeUndefined();
      expect(res.headers['x-rate-limit-remaining']).toBeUndefined();
    }
  });

  it('never asks a browser for credentials: no Basic challenge when the request comes from one', async () => {
    for (const headers of [
      { origin: 'https://elsewhere.example' },
      { 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'none' },
      { 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await t.app.inject({ url: '/v1/Workspaces', headers });
      expect(res.statusCode).toBe(401);
      expectTwilioError(res.json(), 401, 20003);
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
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

describe('CORS', () => {
  it('lets any page read with a token it holds, but never with credentials the browser keeps', async () => {
    const res = await t.request({ url: '/v1/Workspaces', headers: { origin: 'https://elsewhere.example' } });
    expect(res.statusCode).toBe(200);
    expectStandardHeaders(res.headers);
    expect(res.headers.vary).toBeUndefined();
  });

  it('refuses writes from a browser page on another origin, and stores nothing', async () => {
    const before = (await t.request({ url: '/v1/Workspaces' })).json().workspaces.length;
    for (const method of ['POST', 'DELETE'] as const) {
      const res = await t.request({
        method,
        url: method === 'POST' ? '/v1/Workspaces' : `/v1/Workspaces/WS${'0'.repeat(32)}`,
        form: method === 'POST' ? { FriendlyName: 'Cross-site' } : undefined,
        headers: { origin: 'https://evil.example' },
      });
      expect(res.statusCode, method).toBe(403);
      expectTwilioError(res.json(), 403, 20403);
      expectStandardHeaders(res.headers);
    }
    expect((await t.request({ url: '/v1/Workspaces' })).json().workspaces.length).toBe(before);
  });

  it("accepts writes from the server's own origin (the dashboard) and from clients that send none", async () => {
    for (const origin of ['http://roster.test', 'http://localhost:80']) {
      const res = await t.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: `From ${origin}` },
        headers: { origin, host: 'localhost:80' },
      });
      expect(res.statusCode, origin).toBe(201);
    }
  });

  it('gives trusted origins credentials and writes', async () => {
    const trusted = await createTestApp({ corsOrigins: ['https://dashboard.example'] });
    try {
      const preflight = await trusted.app.inject({
        method: 'OPTIONS',
        url: '/v1/Workspaces',
        headers: { origin: 'https://dashboard.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://dashboard.example');
      expect(preflight.headers['access-control-allow-credentials']).toBe('true');
      expect(preflight.headers.vary).toBe('Origin');
      const write = await trusted.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'Trusted' },
        headers: { origin: 'https://dashboard.example' },
      });
      expect(write.statusCode).toBe(201);
      expect(write.headers['access-control-allow-origin']).toBe('https://dashboard.example');
      const other = await trusted.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'Untrusted' },
        headers: { origin: 'https://dashboard.example.evil.example' },
      });
      expect(other.statusCode).toBe(403);
      expect(other.headers['access-control-allow-origin']).toBe('*');
      // Answers now depend on Origin, wildcard ones included.
      expect((await trusted.request({ url: '/v1/Workspaces' })).headers.vary).toBe('Origin');
    } finally {
      await trusted.close();
    }
  });
});

describe('methods', () => {
  it.each([
    ['PUT', '/v1/Workspaces', 'GET, HEAD, POST, OPTIONS'],
    ['PATCH', `/v1/Workspaces/WS${'0'.repeat(32)}`, 'GET, HEAD, POST, DELETE, OPTIONS'],
    ['POST', `/v1/Workspaces/WS${'0'.repeat(32)}/Workers/RealTimeStatistics`, 'GET, HEAD, OPTIONS'],
    ['DELETE', `/v1/Workspaces/WS${'0'.repeat(32)}/Workers/RealTimeStatistics`, 'GET, HEAD, OPTIONS'],
  ])('answers %s on %s with 405, Allow and 20004', async (method, url, allow) => {
    const res = await t.request({ method: method as 'PUT', url, form: {} });
    expect(res.statusCode).toBe(405);
    expectTwilioError(res.json(), 405, 20004);
    expect(String(res.headers.allow).split(', ').sort()).toEqual(allow.split(', ').sort());
    expectStandardHeaders(res.headers);
  });

  it('still asks for credentials first, and still answers preflight', async () => {
    const anonymous = await t.app.inject({ method: 'PUT', url: '/v1/Workspaces' });
    expect(anonymous.statusCode).toBe(401);
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/v1/Workspaces',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'PUT' },
    });
    expect(preflight.statusCode).toBe(204);
    expect((await t.request({ method: 'PUT', url: '/v1/Nothing/Here' })).statusCode).toBe(404);
  });
});

describe('rate-limit headers', () => {
  it('show the budget of each kind when limits are on, on every response', async () => {
    const limited = await createTestApp({ rateLimit: { readsPerSecond: 50, writesPerSecond: 20 } });
    try {
      const read = await limited.request({ url: '/v1/Workspaces' });
      expect(read.headers).toMatchObject({
        'x-rate-limit-config': 'Read',
        'x-rate-limit-limit': '50',
        'x-rate-limit-remaining': '49',
      });
      const write = await limited.request({
        method: 'POST',
        url: '/v1/Workspaces',
        form: { FriendlyName: 'r' },
      });
      expect(write.headers).toMatchObject({ 'x-rate-limit-config': 'Write', 'x-rate-limit-limit': '20' });
      // Not charged (no credentials needed): the full budget.
      const dashboard = await limited.app.inject({ url: '/' });
      expect(dashboard.headers['x-rate-limit-remaining']).toBe('50');
    } finally {
      await limited.close();
    }
  });
});
