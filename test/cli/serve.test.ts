import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/app.js';
import { freePort, runRoster as spawnRoster } from '../helpers/process.js';

const dirs: string[] = [];
/** Every process a test starts, so that a failing test cannot leave one running. */
const started: ReturnType<typeof spawnRoster>[] = [];
const runRoster = (...args: Parameters<typeof spawnRoster>) => {
  const proc = spawnRoster(...args);
  started.push(proc);
  return proc;
};
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'roster-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const proc of started) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('roster serve', () => {
  it('creates an account on first start, keeps it, and shuts down cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const port = await freePort();
    const env = { ROSTER_DATA_DIR: dir, PORT: String(port) };
    const first = runRoster(['serve'], env);
    const [, sid, token] = await first.waitFor(
      /Created account (AC[0-9a-f]{32}) with auth token ([0-9a-f]{32})/,
    );
    await first.waitFor(/client\.taskrouter\.baseUrl = 'http:\/\/127\.0\.0\.1:\d+'/);
    expect(first.stdout()).toContain(`Roster is listening on http://127.0.0.1:${port}`);
    const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8'));
    expect(creds).toEqual({ account_sid: sid, auth_token: token });
    expect(statSync(join(dir, 'credentials.json')).mode & 0o077).toBe(0);

    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: basicAuth(sid!, token!) };
    const created = await fetch(`${base}/v1/Workspaces`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'FriendlyName=Kept',
    });
    expect(created.status).toBe(201);
    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });

    const second = runRoster(['serve'], env);
    await second.waitFor(/client\.taskrouter\.baseUrl/);
    expect(second.stdout()).toContain(
      `Account ${sid}; its auth token is in ${join(dir, 'credentials.json')}`,
    );
    expect(second.stdout()).not.toContain(token!);
    const list = await fetch(`${base}/v1/Workspaces`, { headers: auth });
    expect((await list.json()).workspaces.map((w: { friendly_name: string }) => w.friendly_name)).toEqual([
      'Kept',
    ]);
    second.child.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
  });

  it('serves the account given in the environment', async () => {
    const dir = tempDir();
    const port = await freePort();
    const sid = 'AC' + 'ab'.repeat(16);
    const proc = runRoster(['serve'], {
      ROSTER_DATA_DIR: dir,
      PORT: String(port),
      ROSTER_ACCOUNT_SID: sid,
      ROSTER_AUTH_TOKEN: 'secret-token-1',
      ROSTER_PUBLIC_URL: 'https://roster.example.com/',
      ROSTER_TWILIO_LIMITS: 'off',
      ROSTER_CORS_ORIGINS: 'https://dash.example.com, http://localhost:5173',
      ROSTER_CLOCK: 'manual',
    });
    await proc.waitFor(/listening/);
    const base = `http://127.0.0.1:${port}/v1/Workspaces`;
    const headers = { authorization: basicAuth(sid, 'secret-token-1') };
    const res = await fetch(base, { headers });
    expect(res.status).toBe(200);
    expect((await res.json()).meta.url).toBe('https://roster.example.com/v1/Workspaces?PageSize=50&Page=0');
    // With Twilio's limits lifted, a worker channel takes more than Twilio's 50.
    const post = (url: string, form: Record<string, string>) =>
      fetch(url, { method: 'POST', headers, body: new URLSearchParams(form) });
    const ws = (await (await post(base, { FriendlyName: 'Big' })).json()).sid;
    const worker = (await (await post(`${base}/${ws}/Workers`, { FriendlyName: 'W' })).json()).sid;
    const channel = await post(`${base}/${ws}/Workers/${worker}/Channels/voice`, { Capacity: '51' });
    expect(channel.status).toBe(200);
    expect((await channel.json()).configured_capacity).toBe(51);
    const trusted = await fetch(`http://127.0.0.1:${port}/v1/Workspaces`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(sid, 'secret-token-1'),
        origin: 'http://localhost:5173',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'FriendlyName=Trusted',
    });
    expect(trusted.status).toBe(201);
    expect(trusted.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    // ROSTER_CLOCK=manual: the clock moves by an authenticated POST, and only then.
    const clockUrl = `http://127.0.0.1:${port}/roster/v1/Clock`;
    const before = (await (await fetch(clockUrl, { headers })).json()).now_ms as number;
    const moved = await post(clockUrl, { Advance: '3600' });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({
      mode: 'manual',
      now_ms: before + 3_600_000,
      url: 'https://roster.example.com/roster/v1/Clock',
    });
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });

  it.each([
    [{ ROSTER_ACCOUNT_SID: 'ACnope', ROSTER_AUTH_TOKEN: 'secret-token-1' }, /ROSTER_ACCOUNT_SID must be/],
    [{ ROSTER_ACCOUNT_SID: 'AC' + '0'.repeat(32) }, /Set both ROSTER_ACCOUNT_SID and ROSTER_AUTH_TOKEN/],
    [{ PORT: 'eighty' }, /PORT must be an integer/],
    [{ ROSTER_DATA_DIR: '/etc/hostname/data' }, /ROSTER_DATA_DIR .* cannot be used/],
    [{ ROSTER_DATA_DIR: '/proc/roster-data' }, /ROSTER_DATA_DIR .* cannot be used/],
    [{ ROSTER_PUBLIC_URL: 'ftp://x' }, /ROSTER_PUBLIC_URL must be an http\(s\) URL/],
    [{ ROSTER_TWILIO_LIMITS: 'maybe' }, /ROSTER_TWILIO_LIMITS must be on or off/],
    [{ ROSTER_CLOCK: 'fast' }, /ROSTER_CLOCK must be system or manual/],
    [{ ROSTER_CORS_ORIGINS: 'https://dash.example.com/app' }, /ROSTER_CORS_ORIGINS must list origins/],
    [{ ROSTER_MAX_CONNECTIONS: '0' }, /ROSTER_MAX_CONNECTIONS must be an integer/],
    [{ ROSTER_REQUEST_TIMEOUT_MS: 'soon' }, /ROSTER_REQUEST_TIMEOUT_MS must be an integer/],
  ])('stops with one clear line on bad configuration %#', async (env, message) => {
    const proc = runRoster(['serve'], { ...{ ROSTER_DATA_DIR: tempDir() }, ...env });
    expect((await proc.exited).code).toBe(1);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/^roster: /);
  });

  it('stops with one clear line when the port is taken', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const proc = runRoster(['serve'], { ROSTER_DATA_DIR: tempDir(), PORT: String(port) });
      expect((await proc.exited).code).toBe(1);
      expect(proc.stderr().trim()).toBe(`roster: Port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('prints help', async () => {
    const proc = runRoster(['--help'], {});
    expect((await proc.exited).code).toBe(0);
    expect(proc.stdout()).toContain('Usage:');
    expect(proc.stdout()).toContain('ROSTER_DATA_DIR');
  });
});
