import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type AppOptions } from '../../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type Services } from '../../src/services/index.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';

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
  /** Makes another account on the same server. */
  newAccount(): Promise<TestAccount>;
  /** Injects with the default account's credentials; `form` becomes a form body. */
  request(
    opts: InjectOptions & { form?: Record<string, string>; as?: TestAccount },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export function basicAuth(sid: string, token: string): string {
  return 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString().replace(/\+/g, '%20');
}

/** A fresh store in a temp dir (SQLite file). */
export function openTestStore(dir: string): Store {
  return SqliteStore.open({ path: join(dir, 'roster.db') });
}

export async function createTestApp(options: Partial<AppOptions> & { dir?: string } = {}): Promise<TestApp> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'roster-test-'));
  const store = openTestStore(dir);
  const services = options.services ?? createServices(store);
  const app = buildApp({ publicUrl: PUBLIC_URL, ...options, services });
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
    },
  };
}
