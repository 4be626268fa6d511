import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL } from '../helpers/app.js';
import { createRoutingApp, routingHelpers } from '../helpers/routing.js';

let app: Awaited<ReturnType<typeof createRoutingApp>>;
beforeAll(async () => {
  app = await createRoutingApp();
});
afterAll(() => app.t.close());

/** Every link of a resource answers a GET (the bulk statistics link, a POST) with a 200. */
async function expectLinksAnswer(links: Record<string, string>) {
  const t = app.t;
  for (const [name, link] of Object.entries(links)) {
    expect(link.startsWith(PUBLIC_URL), name).toBe(true);
    const url = link.slice(PUBLIC_URL.length);
    const res =
      name === 'bulk_real_time_statistics'
        ? await t.request({
            method: 'POST',
            url,
            headers: { 'content-type': 'application/json' },
            payload: JSON.stringify({ TaskQueueSids: [] }),
          })
        : await t.request({ url });
    // The bulk link is a POST that needs queues: 400 with none, so it exists.
    expect(res.statusCode, `${name} ${url}: ${res.body}`).toBe(
      name === 'bulk_real_time_statistics' ? 400 : 200,
    );
  }
}

describe('links', () => {
  it('of a workspace, a worker, a task queue and a workflow all lead somewhere Roster answers', async () => {
    const h = routingHelpers(app.t);
    const s = await h.workspace();
    const worker = await h.worker(s, 'ann', s.idle);
    const get = async (url: string) => (await app.t.request({ url })).json();
    const resources = [
      await get(`/v1/Workspaces/${s.ws}`),
      await get(`/v1/Workspaces/${s.ws}/Workers/${worker}`),
      await get(`/v1/Workspaces/${s.ws}/TaskQueues/${s.queue}`),
      await get(`/v1/Workspaces/${s.ws}/Workflows/${s.workflow}`),
    ];
    for (const r of resources) {
      expect(Object.keys(r.links).length).toBeGreaterThan(0);
      await expectLinksAnswer(r.links);
    }
  });
});
