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

  it('exposes request durations as a Prometheus histogram, every response counted once', async () => {
    const scrape = async () =>
      (await t.app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-me-please' } })).body;
    const before = await scrape();
    const count = (text: string, series: string) =>
      Number(
        new RegExp(`^${series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0,
      );
    const labels = 'method="GET",route="/v1/Workspaces"';
    for (let i = 0; i < 3; i++) await t.request({ url: '/v1/Workspaces' });
    const after = await scrape();
    expect(after).toContain('# TYPE roster_http_request_duration_seconds histogram');
    for (const series of [
      `roster_http_request_duration_seconds_count{${labels}}`,
      `roster_http_request_duration_seconds_bucket{${labels},le="+Inf"}`,
      `roster_http_requests_total{${labels},status="200"}`,
    ]) {
      expect(count(after, series) - count(before, series), series).toBe(3);
    }
    // Buckets are cumulative, end at the count, and the sum is of seconds.
    const buckets = [
      ...after.matchAll(
        new RegExp(`^roster_http_request_duration_seconds_bucket\\{${labels},le="([^"]+)"\\} (\\d+)$`, 'gm'),
      ),
    ];
    expect(buckets.map((m) => m[1])).toEqual([
      '0.0005',
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '+Inf',
    ]);
    const values = buckets.map((m) => Number(m[2]));
    expect(values).toEqual([...values].sort((a, b) => a - b));
    const sum = count(after, `roster_http_request_duration_seconds_sum{${labels}}`);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(values.at(-1)! * 10);
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
