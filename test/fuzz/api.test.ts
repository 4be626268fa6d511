import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { Recounter } from '../scale/recount.js';
import { fuzzApi, fuzzSettings, type FuzzTarget } from './fuzz.js';

/** The fuzzer (test/fuzz/fuzz.ts) through `app.inject`, on this project's backend. */
let t: TestApp;
let target: FuzzTarget;

beforeAll(async () => {
  t = await createTestApp();
  const other = await t.newAccount();
  const foreign = await t.request({
    method: 'POST',
    url: '/v1/Workspaces',
    form: { FriendlyName: 'Foreign' },
    as: other,
  });
  target = {
    send: ({ method, url, headers, payload }) =>
      t.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) }),
    account: t.account,
    other,
    foreignWorkspace: foreign.json<{ sid: string }>().sid,
    spec: t.spec,
    recounter: testBackend() === 'sqlite' ? new Recounter(join(t.dir, 'roster.db')) : null,
  };
});
afterAll(async () => {
  target.recounter?.close();
  await t.close();
});

describe('the API under random valid, boundary and hostile requests (injected)', () => {
  it(
    `never answers 5xx, always in Twilio's error shape, and keeps statistics and queue membership exact (seed ${fuzzSettings.seed})`,
    async () => {
      await fuzzApi(target);
    },
    60_000 + fuzzSettings.runs * 2_000,
  );
});
