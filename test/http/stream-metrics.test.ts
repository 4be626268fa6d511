import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ live: { metricsToken: 'scrape-me-please' } });
});
afterAll(() => t.close());

describe('/metrics and the dashboard files', () => {
  it('asks for the bearer token when one is configured', async () => {
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const wrong = await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    await t.request({ url: '/v1/Workspaces' });
    await t.request({ url: '/v1/Workspaces/WS00000000000000000000000000000000' });
    const res = await t.app.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer scrape-me-please' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(
      /^roster_http_requests_total\{method="GET",route="\/v1\/Workspaces",status="200"\} 1$/m,
    );
    // Route patterns, never SIDs, so the label set stays small.
    expect(res.body).toContain('route="/v1/Workspaces/:Sid",status="404"');
    expect(res.body).not.toContain('WS00000000000000000000000000000000');
    expect(res.body).toMatch(/^roster_open_streams 0$/m);
    expect(res.body).toContain('# TYPE roster_store_errors_total counter');
  });

  it('serves the dashboard from memory with an ETag', async () => {
    const first = await t.app.inject({ url: '/' });
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('<script type="module" src="/app.js"></script>');
    const again = await t.app.inject({ url: '/', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect((await t.app.inject({ url: '/style.css' })).headers['content-type']).toMatch(/^text\/css/);
  });
});
