import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices } from '../../src/services/index.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { FaultyProxy } from '../helpers/tcp-proxy.js';
import { basicAuth, formBody } from '../helpers/app.js';
import { expectTwilioError } from '../helpers/spec.js';
import { newSchemaName, openPostgresTestStore, requireTestDatabaseUrl } from '../helpers/postgres.js';

/**
 * A node that loses its database: a TCP proxy between the node and PostgreSQL is cut (every
 * connection dropped, new ones refused), then restored. Requests meanwhile get Twilio-style
 * 503s, the node keeps running and serves again by itself, and every write it acknowledged
 * is in the database.
 */
const schema = newSchemaName();
let proxy: FaultyProxy;
let direct: PostgresStore;
let viaProxy: PostgresStore;
let app: ReturnType<typeof buildApp>;
const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };

beforeAll(async () => {
  const db = new URL(requireTestDatabaseUrl());
  proxy = await FaultyProxy.start({ host: db.hostname, port: Number(db.port || 5432) });
  direct = openPostgresTestStore({ schema }); // the truth, never cut
  await direct.ready();
  const proxied = new URL(db);
  proxied.host = `127.0.0.1:${proxy.port}`;
  viaProxy = openPostgresTestStore({ connectionString: proxied.toString(), schema, connectTimeoutMs: 1_000 });
  const services = createServices(viaProxy);
  await services.accounts.ensure(account.sid, account.token);
  app = buildApp({ services, publicUrl: 'http://roster.test' });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await viaProxy.close();
  await direct.close(); // made the schema: drops it
  await proxy.close();
});

function request(method: 'GET' | 'POST' | 'DELETE', url: string, form?: Record<string, string>) {
  return app.inject({
    method,
    url,
    headers: {
      authorization: basicAuth(account.sid, account.token),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    payload: form ? formBody(form) : undefined,
  });
}

describe('database outage', () => {
  it('answers 503 while the database is gone, recovers by itself, and loses nothing acknowledged', async () => {
    const ws = (await request('POST', '/v1/Workspaces', { FriendlyName: 'Outage' })).json().sid as string;
    const acknowledged: string[] = [];
    const createWorker = async (name: string) => {
      const res = await request('POST', `/v1/Workspaces/${ws}/Workers`, { FriendlyName: name });
      if (res.statusCode === 201) acknowledged.push(res.json().sid);
      return res;
    };
    for (let i = 0; i < 5; i++) expect((await createWorker(`Before ${i}`)).statusCode).toBe(201);

    proxy.cut();
    const during = [
      await request('GET', `/v1/Workspaces/${ws}/Workers`),
      await request('GET', `/v1/Workspaces/${ws}/Workers/RealTimeStatistics`),
      await createWorker('During 0'),
      await createWorker('During 1'),
    ];
    for (const res of during) {
      expect(res.statusCode).toBe(503);
      expectTwilioError(res.json(), 503, 20503);
    }

    proxy.restore();
    // Recovery needs no restart: poll (bounded) until the node serves again.
    await expect
      .poll(async () => (await request('GET', `/v1/Workspaces/${ws}/Workers`)).statusCode, {
        timeout: 15_000,
        interval: 100,
      })
      .toBe(200);
    for (let i = 0; i < 5; i++) expect((await createWorker(`After ${i}`)).statusCode).toBe(201);

    // Writes racing a cut: each either was acknowledged (and is stored) or failed with 503.
    const racing = Array.from({ length: 10 }, (_, i) => createWorker(`Racing ${i}`));
    proxy.cut();
    for (const res of await Promise.all(racing)) expect([201, 503]).toContain(res.statusCode);
    proxy.restore();

    const stored = (await direct.listWorkers(ws, {}, { pageSize: 1000, page: 0 })).items.map((w) => w.sid);
    for (const sid of acknowledged) expect(stored).toContain(sid);
    const counts = await direct.activityCounts(ws);
    expect(counts.reduce((n, c) => n + c.workers, 0)).toBe(stored.length);
  });
});
