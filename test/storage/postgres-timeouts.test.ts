import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { UnavailableError } from '../../src/domain/errors.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices } from '../../src/services/index.js';
import { poolConfig, type PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { FaultyProxy } from '../helpers/tcp-proxy.js';
import { basicAuth } from '../helpers/app.js';
import { newSchemaName, openPostgresTestStore, requireTestDatabaseUrl } from '../helpers/postgres.js';
import { expectTwilioError } from '../helpers/spec.js';

/**
 * A database that stops answering without closing anything (a vanished host, replies
 * dropped): the client-side query and connection timeouts answer 503 instead of hanging, and
 * the node serves again once replies flow. A session left idle in a transaction is ended by
 * PostgreSQL, and its locks with it.
 */
describe('PostgreSQL timeouts', () => {
  it('are read from the environment, with defaults', () => {
    const url = 'postgres://roster@db:5432/roster';
    expect(loadConfig({ DATABASE_URL: url }).postgres).toEqual({
      url,
      poolSize: 10,
      statementTimeoutMs: 10_000,
      queryTimeoutMs: 15_000,
      connectTimeoutMs: 5_000,
      idleInTransactionTimeoutMs: 30_000,
      keepAliveDelayMs: 10_000,
    });
    const set = loadConfig({
      DATABASE_URL: url,
      ROSTER_PG_QUERY_TIMEOUT_MS: '0',
      ROSTER_PG_CONNECT_TIMEOUT_MS: '800',
      ROSTER_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: '60000',
      ROSTER_PG_KEEPALIVE_MS: '2000',
    }).postgres;
    expect(set).toMatchObject({
      queryTimeoutMs: 0,
      connectTimeoutMs: 800,
      idleInTransactionTimeoutMs: 60_000,
      keepAliveDelayMs: 2_000,
    });
    expect(() => loadConfig({ DATABASE_URL: url, ROSTER_PG_QUERY_TIMEOUT_MS: 'soon' })).toThrow(ConfigError);
  });

  it('are configured on every connection of the pool', () => {
    const config = poolConfig({
      connectionString: 'postgres://x@127.0.0.1/db',
      queryTimeoutMs: 1_234,
      connectTimeoutMs: 2_345,
      idleInTransactionTimeoutMs: 3_456,
      keepAliveDelayMs: 4_567,
      statementTimeoutMs: 5_678,
    });
    expect(config).toMatchObject({
      query_timeout: 1_234,
      connectionTimeoutMillis: 2_345,
      idle_in_transaction_session_timeout: 3_456,
      keepAlive: true,
      keepAliveInitialDelayMillis: 4_567,
      statement_timeout: 5_678,
    });
    const off = poolConfig({
      connectionString: 'postgres://x@127.0.0.1/db',
      queryTimeoutMs: 0,
      idleInTransactionTimeoutMs: 0,
      statementTimeoutMs: 0,
    });
    for (const key of ['query_timeout', 'idle_in_transaction_session_timeout', 'statement_timeout']) {
      expect(off).not.toHaveProperty(key);
    }
  });

  describe('when replies stop', () => {
    const schema = newSchemaName();
    let proxy: FaultyProxy;
    let direct: PostgresStore;
    let viaProxy: PostgresStore;
    let app: ReturnType<typeof buildApp>;
    const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };

    beforeAll(async () => {
      const db = new URL(requireTestDatabaseUrl());
      proxy = await FaultyProxy.start({ host: db.hostname, port: Number(db.port || 5432) });
      direct = openPostgresTestStore({ schema });
      await direct.ready();
      const proxied = new URL(db);
      proxied.host = `127.0.0.1:${proxy.port}`;
      viaProxy = openPostgresTestStore({
        connectionString: proxied.toString(),
        schema,
        connectTimeoutMs: 500,
        queryTimeoutMs: 500,
      });
      const services = createServices(viaProxy);
      await services.accounts.ensure(account.sid, account.token);
      app = buildApp({ services, publicUrl: 'http://roster.test' });
      await app.ready();
    });

    afterAll(async () => {
      // The proxy first: connections it left unanswered then fail at once instead of being waited for.
      await proxy.close();
      await app.close();
      await viaProxy.close();
      await direct.close();
    });

    const get = (url: string) =>
      app.inject({ method: 'GET', url, headers: { authorization: basicAuth(account.sid, account.token) } });

    it('answers 503 instead of hanging, and serves again once replies flow', async () => {
      expect((await get('/v1/Workspaces')).statusCode).toBe(200);
      proxy.stall();
      // Pooled connections wait for a reply that never comes (query timeout); new ones for
      // a handshake that never comes (connection timeout). Both end in a 503.
      for (let i = 0; i < 3; i++) {
        const res = await get('/v1/Workspaces');
        expect(res.statusCode, res.body).toBe(503);
        expectTwilioError(res.json(), 503, 20503);
      }
      proxy.restore();
      await expect
        .poll(async () => (await get('/v1/Workspaces')).statusCode, { timeout: 15_000, interval: 50 })
        .toBe(200);
    });
  });

  it('ends a session left idle in a transaction, releasing its locks', async () => {
    const schema = newSchemaName();
    const holder = openPostgresTestStore({ schema, idleInTransactionTimeoutMs: 200 });
    const other = openPostgresTestStore({ schema });
    try {
      const ws = newSid(SidPrefix.workspace);
      const activity = newSid(SidPrefix.activity);
      const worker = newSid(SidPrefix.worker);
      const now = new Date();
      await holder.transaction(async (tx) => {
        await tx.insertActivity({
          sid: activity,
          accountSid: 'AC',
          workspaceSid: ws,
          friendlyName: 'A',
          available: true,
          now,
        });
        await tx.insertWorker(
          {
            sid: worker,
            accountSid: 'AC',
            workspaceSid: ws,
            friendlyName: 'W',
            activitySid: activity,
            attributes: '{}',
            now,
          },
          { capacity: 1, available: true },
        );
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      // Reads the worker to change it (which locks it), then goes quiet until the other write is through.
      const stuck = holder.transaction(async (tx) => {
        await tx.getWorker(ws, worker);
        locked();
        await released;
        await tx.getAccount(newSid(SidPrefix.account));
      });
      await isLocked;
      const updated = await other.transaction((tx) =>
        tx.updateWorker(worker, { friendlyName: 'Moved on' }, new Date()),
      );
      expect(updated?.friendlyName).toBe('Moved on');
      release();
      await expect(stuck).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await other.close();
      await holder.close(); // made the schema: drops it
    }
  });
});
