import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type AppOptions } from '../../src/app.js';
import type { Clock } from '../../src/domain/clock.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type ServiceOptions, type Services } from '../../src/services/index.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/services/ports/store.js';
import { openPostgresTestStore, schemaForDir, testBackend } from './postgres.js';
import { expectNoSpecViolations, installSpecHook, type SpecHook } from './spec-hook.js';

export const PUBLIC_URL = 'http://roster.test';

export interface TestAccount {
  sid: string;
  token: string;
  /** The Authorization header value. */
  auth: string;
}

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  services: Services;
  dir: string;
  account: TestAccount;
  /** Every response is checked against the spec; close() fails on violations (or assert per test). */
  spec: SpecHook;
  /** Makes another account on the same server. */
  newAccount(): Promise<TestAccount>;
  /** Injects with the default account's credentials; `form` becomes a form body. */
  request(
    opts: InjectOptions & { form?: Record<string, string | undefined>; as?: TestAccount },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function basicAuth(sid: string, token: string): string {
  return 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
}

export function formBody(fields: Record<string, string | undefined>): string {
  const defined = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
  return new URLSearchParams(defined).toString().replace(/\+/g, '%20');
}

/**
 * A store of this Vitest project's backend for `dir`: a SQLite file in it, or on PostgreSQL
 * a schema named after it (dropped at the end of the run).
 */
export function openTestStore(dir: string): Store {
  if (testBackend() === 'postgres') return openPostgresTestStore({ schema: schemaForDir(dir) });
  return SqliteStore.open({ path: join(dir, 'roster.db') });
}

export async function createTestApp(
  testOptions: Partial<AppOptions> & {
    dir?: string;
    now?: () => Date;
    twilioLimits?: boolean;
    /** The services' clock, e.g. a ManualClock (which POST /roster/v1/Clock then moves). */
    clock?: Clock;
    /** Options for the services beyond `now`, `twilioLimits` and `clock` (the reclaimer's). */
    serviceOptions?: ServiceOptions;
  } = {},
): Promise<TestApp> {
  const { now, twilioLimits, clock, serviceOptions, ...options } = testOptions;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'roster-test-'));
  const store = openTestStore(dir);
  const services = options.services ?? createServices(store, { now, twilioLimits, clock, ...serviceOptions });
  const app = buildApp({ publicUrl: PUBLIC_URL, ...options, services });
  const spec = installSpecHook(app);
  await app.ready();

  const newAccount = async (): Promise<TestAccount> => {
    const sid = newSid(SidPrefix.account);
    const token = newAuthToken();
    await services.accounts.ensure(sid, token);
    return { sid, token, auth: basicAuth(sid, token) };
  };
  const account = await newAccount();

  return {
    app,
    store,
    services,
    dir,
    account,
    spec,
    newAccount,
    request({ form, as, headers, ...opts }) {
      const h: Record<string, string> = {
        authorization: (as ?? account).auth,
        ...(headers as Record<string, string>),
      };
      if (form) {
        h['content-type'] = 'application/x-www-form-urlencoded';
        return app.inject({ ...opts, headers: h, payload: formBody(form) });
      }
      return app.inject({ ...opts, headers: h });
    },
    async close() {
      await app.close();
      await store.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
      expectNoSpecViolations(spec);
    },
  };
}
