/**
 * Statistics streams under load: N concurrent subscribers to one workspace's
 * RealTimeStatistics on one node, and the time from a write to the event at each of them.
 *
 *   npx tsx bench/stream.ts [--subscribers 1000] [--writes 200]
 *
 * The server runs in its own process (as `roster serve`, SQLite in a temp dir, on 127.0.0.1)
 * so that the subscribers' parsing does not share its event loop. Writes are made one at a
 * time, each once every subscriber has the previous event and a coalescing interval more has
 * passed, so each measures the push path and not the coalescing delay.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { SseClient } from '../test/http/stream-client.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUBSCRIBERS = arg('subscribers', 1000);
const WRITES = arg('writes', 200);
const INTERVAL_MS = 100;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface StreamBenchResult {
  subscribers: number;
  writes: number;
  ackToEventMs: { p50: number; p99: number; max: number };
  sendToEventMs: { p50: number; p99: number; max: number };
  serverRssMb: number;
  connectSeconds: number;
}

export async function runStreamBench(subscribers = SUBSCRIBERS, writes = WRITES): Promise<StreamBenchResult> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-stream-'));
  const sid = newSid(SidPrefix.account);
  const token = newAuthToken();
  const auth = 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64');
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      ROSTER_DATA_DIR: dir,
      ROSTER_ACCOUNT_SID: sid,
      ROSTER_AUTH_TOKEN: token,
      ROSTER_LOG_LEVEL: 'warn',
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
      ROSTER_STREAM_INTERVAL_MS: String(INTERVAL_MS),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const clients: SseClient[] = [];
  try {
    const api = async (method: string, path: string, form?: Record<string, string>) => {
      const res = await fetch(`${base}/v1${path}`, {
        method,
        headers: {
          authorization: auth,
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status}`);
      return (await res.json()) as Record<string, unknown>;
    };
    // Wait for the server to listen.
    for (let i = 0; ; i++) {
      try {
        await api('GET', '/Workspaces');
        break;
      } catch (err) {
        if (i > 300) throw err;
        await sleep(100);
      }
    }
    const ws = (await api('POST', '/Workspaces', { FriendlyName: 'Stream bench' })).sid as string;
    const activities = (await api('GET', `/Workspaces/${ws}/Activities`)).activities as {
      sid: string;
      friendly_name: string;
    }[];
    const available = activities.find((a) => a.friendly_name === 'Available')!.sid;
    const offline = activities.find((a) => a.friendly_name === 'Offline')!.sid;
    const worker = (await api('POST', `/Workspaces/${ws}/Workers`, { FriendlyName: 'bench' })).sid as string;

    const url = `${base}/v1/Workspaces/${ws}/Workers/RealTimeStatistics`;
    const connectStart = performance.now();
    const arrivals: number[][] = [];
    for (let i = 0; i < subscribers; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, subscribers - i) }, () =>
          SseClient.open(url, { authorization: auth }),
        ),
      );
      for (const c of batch) {
        const times: number[] = [];
        arrivals.push(times);
        // Indexed by event number: the first may have come before this handler was set.
        c.onEvent = () => (times[c.events.length - 1] = performance.now());
        clients.push(c);
      }
    }
    await Promise.all(clients.map((c) => c.waitUntil(() => c.events.length >= 1)));
    const connectSeconds = (performance.now() - connectStart) / 1000;

    const ackToEvent: number[] = [];
    const sendToEvent: number[] = [];
    for (let i = 0; i < writes; i++) {
      const sent = performance.now();
      await api('POST', `/Workspaces/${ws}/Workers/${worker}`, {
        ActivitySid: i % 2 === 0 ? available : offline,
      });
      const acked = performance.now();
      await Promise.all(clients.map((c) => c.waitUntil(() => c.events.length >= i + 2)));
      for (const times of arrivals) {
        ackToEvent.push(times[i + 1]! - acked);
        sendToEvent.push(times[i + 1]! - sent);
      }
      // Past the coalescing interval, so the next write is pushed at once.
      await sleep(INTERVAL_MS + 5);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const rss = Number(/^roster_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN);

    const summary = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const round = (x: number) => Math.round(x * 100) / 100;
      return {
        p50: round(percentile(sorted, 50)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted.at(-1)!),
      };
    };
    return {
      subscribers,
      writes,
      ackToEventMs: summary(ackToEvent),
      sendToEventMs: summary(sendToEvent),
      serverRssMb: Math.round(rss / 1024 / 1024),
      connectSeconds: Math.round(connectSeconds * 100) / 100,
    };
  } finally {
    for (const c of clients) c.close();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = await runStreamBench();
  console.log(
    `stream: ${r.subscribers} subscribers (connected in ${r.connectSeconds} s), ${r.writes} writes; ` +
      `write ack → event p50 ${r.ackToEventMs.p50} ms, p99 ${r.ackToEventMs.p99} ms, max ${r.ackToEventMs.max} ms; ` +
      `write sent → event p50 ${r.sendToEventMs.p50} ms, p99 ${r.sendToEventMs.p99} ms; server RSS ${r.serverRssMb} MB`,
  );
  console.log(JSON.stringify(r));
}
