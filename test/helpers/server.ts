import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import twilio from 'twilio';
import { expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { createServices, type Services } from '../../src/services/index.js';
import type { Store } from '../../src/services/ports/store.js';
import { openTestStore } from './app.js';
import { expectNoSpecViolations, installSpecHook, type SpecHook } from './spec-hook.js';

export type TwilioClient = ReturnType<typeof twilio>;

export interface TestServer {
  /** `http://127.0.0.1:<port>`: where the server listens, and the base of every URL it answers with. */
  url: string;
  account: { sid: string; token: string };
  /** A twilio SDK client for the account, aimed at this server. */
  client: TwilioClient;
  /** The TaskRouter v1 API of `client`. */
  taskrouter: TwilioClient['taskrouter']['v1'];
  /** A twilio SDK client with any credentials, aimed at this server. */
  clientFor(sid: string, token: string): TwilioClient;
  app: FastifyInstance;
  services: Services;
  store: Store;
  spec: SpecHook;
  /** Fails the current test if any response so far broke the spec (use in `afterEach`). */
  expectNoSpecViolations(): void;
  /** Stops the server, closes the store, removes the temp dir; then fails if responses broke the spec. */
  close(): Promise<void>;
}

/** A port nobody listens on right now (the kernel picks it). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/**
 * The server's public URL must be known before it is built (the SDK follows `next_page_url`
 * verbatim), so a free port is picked first; should another process take it in between, retry.
 */
async function listenOnFreePort(
  services: Services,
): Promise<{ app: FastifyInstance; spec: SpecHook; url: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const app = buildApp({ services, publicUrl: url });
    const spec = installSpecHook(app);
    try {
      await app.listen({ host: '127.0.0.1', port });
      return { app, spec, url };
    } catch (err) {
      await app.close();
      if ((err as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

/** One real listening server per test file, driven through the real twilio SDK. */
export async function startTestServer(): Promise<TestServer> {
  // The SDK would rewrite the host for a region or edge taken from the environment.
  delete process.env.TWILIO_REGION;
  delete process.env.TWILIO_EDGE;

  const dir = mkdtempSync(join(tmpdir(), 'roster-conformance-'));
  const store = openTestStore(dir);
  const services = createServices(store);
  const { app, spec, url } = await listenOnFreePort(services);

  const account = { sid: newSid(SidPrefix.account), token: newAuthToken() };
  await services.accounts.ensure(account.sid, account.token);

  const clientFor = (sid: string, token: string) => {
    const c = twilio(sid, token);
    c.taskrouter.baseUrl = url;
    return c;
  };
  const client = clientFor(account.sid, account.token);

  return {
    url,
    account,
    client,
    taskrouter: client.taskrouter.v1,
    clientFor,
    app,
    services,
    store,
    spec,
    expectNoSpecViolations: () => expectNoSpecViolations(spec),
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      expectNoSpecViolations(spec);
    },
  };
}

/** Awaits an SDK call that must fail, and checks it failed as Twilio would: a RestException with this status and code. */
export async function expectRestException(
  call: Promise<unknown>,
  status: number,
  code: number,
): Promise<string> {
  const err: unknown = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the call should have failed').toBeInstanceOf(twilio.RestException);
  expect(err).toMatchObject({ status, code, moreInfo: `https://www.twilio.com/docs/errors/${code}` });
  return (err as Error).message;
}

/**
 * Runs an SDK `each(...)` to its end and resolves with the items it called back with, in order:
 * `await eachItem((o) => workers.each({ pageSize: 2, ...o }))`.
 */
export function eachItem<T>(
  run: (handlers: { callback: (item: T) => void; done: (err?: Error) => void }) => void,
): Promise<T[]> {
  const items: T[] = [];
  return new Promise((resolve, reject) => {
    run({
      callback: (item) => {
        items.push(item);
      },
      done: (err) => (err ? reject(err) : resolve(items)),
    });
  });
}
