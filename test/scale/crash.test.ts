import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { newAuthToken, newSid, SidPrefix } from '../../src/domain/sid.js';
import { basicAuth, formBody } from '../helpers/app.js';
import { pick, prng, Recounter } from './recount.js';

/**
 * The server as users run it, in a child process, killed with SIGKILL in the middle of a
 * write load: after a restart every acknowledged write is there, the statistics equal a
 * recount of the workers, and the event log holds exactly the committed changes (replayed, it
 * gives every worker's activity).
 */
const SEED = Number(process.env.ROSTER_TEST_SEED ?? 20_260_302);
const LOOPS = 8;
/** Acknowledged writes after which the server is killed, writes still in flight. */
const KILL_AFTER = 400;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'roster-crash-'));
const accountSid = newSid(SidPrefix.account);
const token = newAuthToken();
const auth = basicAuth(accountSid, token);
const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `roster serve` on a free port; resolves with its base URL once it listens. */
async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      ROSTER_DATA_DIR: dir,
      ROSTER_ACCOUNT_SID: accountSid,
      ROSTER_AUTH_TOKEN: token,
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
      ROSTER_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  // With PORT=0 the kernel picks the port; Fastify's log line says which.
  for await (const line of lines) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
    if (m) {
      lines.on('line', () => undefined); // keep draining stdout
      return { url: m[1]!, child };
    }
  }
  throw new Error(`The server exited before listening:\n${stderr}`);
}

async function call(url: string, method: string, form?: Record<string, string>) {
  const res = await fetch(url, {
    method,
    headers: form
      ? { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }
      : { authorization: auth },
    body: form ? formBody(form) : undefined,
  });
  return {
    status: res.status,
    body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>),
  };
}

/** What a client knows about one worker: what was acknowledged, and what may have landed unacknowledged. */
interface Known {
  sid: string | null;
  name: string;
  created: 'acked' | 'maybe';
  deleted: 'no' | 'acked' | 'maybe';
  activity: string;
  /** An activity change sent but never answered: it may or may not have committed. */
  maybeActivity?: string;
}

describe(`a crash in the middle of writes (seed ${SEED})`, () => {
  it('keeps every acknowledged write, and statistics equal a recount', async () => {
    const random = prng(SEED);
    let { url, child } = await startServer();
    const ws = (await call(`${url}/v1/Workspaces`, 'POST', { FriendlyName: 'Crash' })).body!;
    const base = `/v1/Workspaces/${ws.sid as string}`;
    for (const name of ['Busy', 'Break']) {
      expect((await call(`${url}${base}/Activities`, 'POST', { FriendlyName: name })).status).toBe(201);
    }
    const activities = (
      (await call(`${url}${base}/Activities`, 'GET')).body!.activities as { sid: string }[]
    ).map((a) => a.sid);

    const known: Known[] = [];
    let acked = 0;
    let killed = false;
    const exited = once(child, 'exit');
    const ack = () => {
      if (++acked === KILL_AFTER) {
        killed = child.kill('SIGKILL');
      }
    };
    const loop = async (id: number) => {
      const mine: Known[] = [];
      for (let i = 0; ; i++) {
        const roll = random();
        const live = mine.filter((k) => k.deleted === 'no' && k.created === 'acked');
        try {
          if (roll < 0.35 || live.length === 0) {
            const k: Known = {
              sid: null,
              name: `loop ${id} worker ${i}`,
              created: 'maybe',
              deleted: 'no',
              activity: pick(random, activities),
            };
            mine.push(k);
            known.push(k);
            const res = await call(`${url}${base}/Workers`, 'POST', {
              FriendlyName: k.name,
              ActivitySid: k.activity,
            });
            expect(res.status).toBe(201);
            k.sid = res.body!.sid as string;
            k.created = 'acked';
          } else if (roll < 0.9) {
            const k = pick(random, live);
            const activity = pick(random, activities);
            k.maybeActivity = activity;
            const res = await call(`${url}${base}/Workers/${k.sid}`, 'POST', { ActivitySid: activity });
            expect(res.status).toBe(200);
            k.activity = activity;
            k.maybeActivity = undefined;
          } else {
            const k = pick(random, live);
            k.deleted = 'maybe';
            expect((await call(`${url}${base}/Workers/${k.sid}`, 'DELETE')).status).toBe(204);
            k.deleted = 'acked';
          }
          ack();
        } catch (err) {
          if (killed) return; // the connection died with the server: this write's fate is unknown
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: LOOPS }, (_, id) => loop(id)));
    await exited;
    expect(killed).toBe(true);

    ({ url, child } = await startServer());
    try {
      // Every acknowledged write is there; unacknowledged ones may or may not be.
      const listed = new Map<string, { sid: string; activity_sid: string }>();
      let next: string | null = `${url}${base}/Workers?PageSize=1000`;
      while (next) {
        const page: Record<string, unknown> = (await call(next, 'GET')).body!;
        for (const w of page.workers as { sid: string; friendly_name: string; activity_sid: string }[]) {
          listed.set(w.friendly_name, w);
        }
        next = (page.meta as { next_page_url: string | null }).next_page_url;
      }
      let checked = 0;
      for (const k of known) {
        const w = listed.get(k.name);
        if (k.created === 'maybe') continue;
        if (k.deleted === 'acked') expect(w, k.name).toBeUndefined();
        if (k.deleted === 'no') {
          expect(w, k.name).toBeDefined();
          expect(w!.sid).toBe(k.sid);
          expect([k.activity, k.maybeActivity]).toContain(w!.activity_sid);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);

      // Statistics equal a recount, over HTTP and in the file.
      const recounter = new Recounter(join(dir, 'roster.db'));
      try {
        const stats = (await call(`${url}${base}/Workers/RealTimeStatistics`, 'GET')).body!;
        const recount = recounter.counts(ws.sid as string);
        expect(
          (stats.activity_statistics as { sid: string; workers: number }[]).map((a) => [a.sid, a.workers]),
        ).toEqual(recount.map((r) => [r.activitySid, r.workers]));
        expect(stats.total_workers).toBe(listed.size);
        const channels = (await call(`${url}${base}/TaskChannels`, 'GET')).body!.channels as {
          sid: string;
          unique_name: string;
        }[];
        for (const c of channels) {
          const byChannel = (
            await call(`${url}${base}/Workers/RealTimeStatistics?TaskChannel=${c.unique_name}`, 'GET')
          ).body!;
          expect(
            (byChannel.activity_statistics as { sid: string; workers: number }[]).map((a) => a.workers),
            c.unique_name,
          ).toEqual(recounter.counts(ws.sid as string, c.sid).map((r) => r.workers));
        }

        // The log replayed: created workers with their activity moves, minus deleted ones,
        // is exactly the workers there are, in the activities they are in. A committed write
        // without its event, or an event of a write that did not commit, would break it.
        const replayed = new Map<string, string>();
        const deleted = new Set<string>();
        for (const e of recounter.events(ws.sid as string)) {
          if (e.type === 'worker.created') {
            expect(replayed.has(e.resourceSid) || deleted.has(e.resourceSid), e.resourceSid).toBe(false);
            replayed.set(e.resourceSid, e.data.activity_sid as string);
          } else if (e.type === 'worker.activity.update') {
            expect(replayed.has(e.resourceSid), e.resourceSid).toBe(true);
            replayed.set(e.resourceSid, e.data.activity_sid as string);
          } else if (e.type === 'worker.deleted') {
            expect(replayed.delete(e.resourceSid), e.resourceSid).toBe(true);
            deleted.add(e.resourceSid);
          }
        }
        expect(new Map([...listed.values()].map((w) => [w.sid, w.activity_sid]))).toEqual(replayed);
        for (const k of known) {
          if (k.deleted === 'acked') expect(deleted.has(k.sid!), k.name).toBe(true);
        }
      } finally {
        recounter.close();
      }
    } finally {
      const exit = once(child, 'exit');
      if (child.kill('SIGTERM')) await exit;
    }
  });
});
