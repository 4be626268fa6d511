import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/app.js';
import { testBackend } from '../helpers/postgres.js';
import { freePort, runRoster, type RosterProcess } from '../helpers/process.js';

/**
 * A flood of made-up credentials must cost the server no memory: nothing about a request that
 * did not authenticate is kept. The server runs as its own process with a small heap, so that
 * keeping what it is sent would exhaust it; its RSS is read from /proc.
 */
const SID = 'AC' + 'a'.repeat(32);
const TOKEN = 'flood-test-token';
const HEADER_BYTES = 14 * 1024;
const REQUESTS = 6_000; // 6,000 × 14 KiB: 84 MiB of distinct headers, more than the heap may hold
const CLIENTS = 16;

let dir: string;
let proc: RosterProcess;
let base: string;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

/** A distinct, well-formed but wrong Basic header of about HEADER_BYTES. */
function madeUp(i: number): string {
  const user = `AC${i.toString(16).padStart(32, '0')}${'x'.repeat(HEADER_BYTES * 0.7)}`;
  return basicAuth(user, `guess-${i}`);
}

async function flood(from: number, count: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = from;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < from + count) {
        const i = next++;
        const res = await fetch(`${base}/v1/Workspaces`, { headers: { authorization: madeUp(i) } });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    }),
  );
  return statuses;
}

// The process is a SQLite server whichever project runs this file; once is enough.
describe.skipIf(testBackend() === 'postgres')('a flood of unauthenticated requests', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-flood-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    proc = runRoster(['serve'], {
      ROSTER_DATA_DIR: dir,
      PORT: String(port),
      ROSTER_ACCOUNT_SID: SID,
      ROSTER_AUTH_TOKEN: TOKEN,
      ROSTER_RATE_LIMIT_READS: '0',
      NODE_OPTIONS: '--max-old-space-size=48',
    });
    await proc.waitFor(/listening/);
  });
  afterAll(async () => {
    proc?.child.kill('SIGTERM');
    await proc?.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused without the server keeping anything of it', async () => {
    const pid = proc.child.pid!;
    // A first round warms the server up (code compiled, buffers grown).
    expect(new Set(await flood(0, 500))).toEqual(new Set([401]));
    const before = rssMiB(pid);
    const statuses = await flood(500, REQUESTS);
    expect(statuses).toHaveLength(REQUESTS);
    expect(new Set(statuses)).toEqual(new Set([401]));
    const after = rssMiB(pid);
    console.log(`RSS ${before.toFixed(0)} MiB → ${after.toFixed(0)} MiB after ${REQUESTS} made-up headers`);
    expect(after - before).toBeLessThan(48);
    // And it still serves its account.
    const ok = await fetch(`${base}/v1/Workspaces`, { headers: { authorization: basicAuth(SID, TOKEN) } });
    expect(ok.status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
    // 6,500 requests of 14 KB headers: seconds when the machine is quiet, more when it is not.
  }, 120_000);
});
