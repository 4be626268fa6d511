/**
 * Real-time statistics subscribers while routing runs (issue 14): 1,000 Server-Sent Events
 * subscribers to TaskQueue RealTimeStatistics, spread over 20 queues, on one `roster serve`
 * (SQLite, 127.0.0.1), while tasks are created through the API and agents accept each
 * reservation as soon as the workspace's event stream announces it, hold the task a while and
 * complete it.
 *
 * Measured: for each task and each subscriber of its queue, the time from the task's 201 (and
 * from sending the create) to the first event whose `tasks_by_priority` shows it. Each task gets
 * a priority of its own (its sequence number), so that the event showing it is known exactly.
 * The subscribers, creators and agents share this process: its event loop is part of the figure.
 *
 *   npx tsx bench/statistics-subscribers.ts [--subscribers 1000] [--queues 20] [--workers 200]
 *        [--seconds 10] [--concurrency 4] [--hold-ms 500] [--interval-ms N]
 *
 * Bounded: `--seconds` of task creation, then at most 10 s for the last events. Prints
 * `RESULT {json}` last, which bench/run.ts puts into BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newAuthToken, newSid, SidPrefix } from '../src/domain/sid.js';
import { SseClient, type SseEvent } from '../test/http/stream-client.js';
import { startServer, stopServer } from './servers.js';
import { freePort, percentile } from './stream.js';

export interface SubscribersOptions {
  subscribers: number;
  queues: number;
  /** Agents, in as many teams as queues. */
  workers: number;
  /** Of task creation. */
  seconds: number;
  /** Task-creating loops. */
  concurrency: number;
  /** How long an agent keeps a task before completing it. */
  holdMs: number;
  /** ROSTER_STREAM_INTERVAL_MS for the server (undefined: its default). */
  intervalMs?: number;
}

export const DEFAULT_SUBSCRIBERS_OPTIONS: SubscribersOptions = {
  subscribers: 1000,
  queues: 20,
  workers: 200,
  seconds: 10,
  concurrency: 4,
  holdMs: 500,
};
/** How long the last tasks' events may take before the run gives up on them. */
const DRAIN_MS = 10_000;

const log = (text: string) => process.stderr.write(text + '\n');

function summary(xs: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...xs].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1)!),
  };
}

interface Created {
  priority: number;
  queue: number;
  sent: number;
  acked: number;
}

/** One subscriber: when it first saw each priority in its queue's statistics. */
interface Watch {
  queue: number;
  client: SseClient;
  seen: Map<string, number>;
}

export interface SubscribersRun extends SubscribersOptions {
  connectSeconds: number;
  tasksCreated: number;
  tasksPerSecond: number;
  reservationsAccepted: number;
  tasksCompleted: number;
  errors: number;
  firstError?: string;
  eventsReceived: number;
  samples: number;
  missed: number;
  ackToEventMs: { p50: number; p99: number; max: number };
  sendToEventMs: { p50: number; p99: number; max: number };
  serverRssMb: number;
}

export async function runSubscribersBench(
  options: Partial<SubscribersOptions> = {},
): Promise<SubscribersRun> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o: SubscribersOptions = { ...DEFAULT_SUBSCRIBERS_OPTIONS, ...given };
  const { subscribers: SUBSCRIBERS, queues: QUEUES, workers: WORKERS, seconds: SECONDS } = o;
  const { concurrency: CONCURRENCY, holdMs: HOLD_MS } = o;
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-subscribers-'));
  const accountSid = newSid(SidPrefix.account);
  const token = newAuthToken();
  const auth = 'Basic ' + Buffer.from(`${accountSid}:${token}`).toString('base64');
  const server = await startServer(
    'roster',
    ['--import', 'tsx', join('src', 'main.ts'), 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      ROSTER_DATA_DIR: dir,
      ROSTER_ACCOUNT_SID: accountSid,
      ROSTER_AUTH_TOKEN: token,
      ROSTER_LOG_LEVEL: 'warn',
      ROSTER_RATE_LIMIT_READS: '0',
      ROSTER_RATE_LIMIT_WRITES: '0',
      ...(o.intervalMs === undefined ? {} : { ROSTER_STREAM_INTERVAL_MS: String(o.intervalMs) }),
    },
    /listening on (http:\/\/127\.0\.0\.1:\d+)/,
  );
  const clients: SseClient[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const fail = (what: string) => {
    errors++;
    firstError ??= what;
  };
  try {
    const api = async (method: string, path: string, form?: Record<string, string>) => {
      const res = await fetch(`${server.url}/v1${path}`, {
        method,
        headers: {
          authorization: auth,
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };

    // The workspace: workers in teams, a queue per team, a workflow that sends each task to its team.
    const ws = (await api('POST', '/Workspaces', { FriendlyName: 'Subscribers bench' })).sid as string;
    const wsPath = `/Workspaces/${ws}`;
    const activities = (await api('GET', `${wsPath}/Activities`)).activities as {
      sid: string;
      friendly_name: string;
    }[];
    const available = activities.find((a) => a.friendly_name === 'Available')!.sid;
    for (let from = 0; from < WORKERS; from += 8) {
      await Promise.all(
        Array.from({ length: Math.min(8, WORKERS - from) }, (_, k) =>
          api('POST', `${wsPath}/Workers`, {
            FriendlyName: `Agent ${from + k}`,
            ActivitySid: available,
            Attributes: JSON.stringify({ team: (from + k) % QUEUES }),
          }),
        ),
      );
    }
    const queues: string[] = [];
    for (let q = 0; q < QUEUES; q++) {
      const queue = await api('POST', `${wsPath}/TaskQueues`, {
        FriendlyName: `Team ${q}`,
        TargetWorkers: `team == ${q}`,
      });
      queues.push(queue.sid as string);
    }
    const workflow = (
      await api('POST', `${wsPath}/Workflows`, {
        FriendlyName: 'By team',
        Configuration: JSON.stringify({
          task_routing: {
            filters: queues.map((queue, q) => ({ expression: `team == ${q}`, targets: [{ queue }] })),
          },
        }),
      })
    ).sid as string;

    // The subscribers, round-robin over the queues, opened 100 at a time.
    log(`Subscribers: opening ${SUBSCRIBERS} over ${QUEUES} queues...`);
    const connectStart = performance.now();
    const watches: Watch[] = [];
    /** Per queue, the priorities each event id shows (every subscriber of a queue gets the same bytes). */
    const shown = queues.map(() => new Map<string, string[]>());
    let eventsReceived = 0;
    for (let i = 0; i < SUBSCRIBERS; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, SUBSCRIBERS - i) }, async (_, k) => {
          const queue = (i + k) % QUEUES;
          const url = `${server.url}/v1${wsPath}/TaskQueues/${queues[queue]}/RealTimeStatistics`;
          return { queue, client: await SseClient.open(url, { authorization: auth }) };
        }),
      );
      for (const { queue, client } of batch) {
        const watch: Watch = { queue, client, seen: new Map() };
        client.onEvent = (e: SseEvent) => {
          const at = performance.now();
          eventsReceived++;
          const cache = shown[queue]!;
          let priorities = cache.get(e.data);
          if (!priorities) {
            const stats = JSON.parse(e.data) as { tasks_by_priority: Record<string, number> };
            priorities = Object.keys(stats.tasks_by_priority);
            cache.set(e.data, priorities);
          }
          for (const p of priorities) if (!watch.seen.has(p)) watch.seen.set(p, at);
        };
        watches.push(watch);
        clients.push(client);
      }
    }
    await Promise.all(clients.map((c) => c.waitUntil(() => c.events.length >= 1)));
    const connectSeconds = (performance.now() - connectStart) / 1000;
    for (const cache of shown) cache.clear();

    // Agents: accept each reservation the event stream announces, hold the task, complete it.
    let accepted = 0;
    let completed = 0;
    const lifecycles = new Set<Promise<void>>();
    const events = await SseClient.open(`${server.url}/v1${wsPath}/Events?EventType=reservation.created`, {
      authorization: auth,
    });
    clients.push(events);
    events.onEvent = (e: SseEvent) => {
      const event = JSON.parse(e.data) as { event_type: string; event_data: Record<string, string> };
      if (event.event_type !== 'reservation.created') return;
      const path = `${wsPath}/Tasks/${event.event_data.task_sid}/Reservations/${event.event_data.reservation_sid}`;
      const lifecycle = (async () => {
        try {
          await api('POST', path, { ReservationStatus: 'accepted' });
          accepted++;
          await sleep(HOLD_MS);
          await api('POST', path, { ReservationStatus: 'completed' });
          completed++;
        } catch (err) {
          fail(String(err));
        }
      })();
      lifecycles.add(lifecycle);
      void lifecycle.finally(() => lifecycles.delete(lifecycle));
    };

    // Routing: CONCURRENCY loops create tasks for random teams, each with a priority of its own.
    log(`Routing for ${SECONDS} s (${CONCURRENCY} creators, agents hold each task ${HOLD_MS} ms)...`);
    const created: Created[] = [];
    let next = 1;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const priority = next++;
          const queue = Math.floor(Math.random() * QUEUES);
          const sent = performance.now();
          try {
            await api('POST', `${wsPath}/Tasks`, {
              WorkflowSid: workflow,
              Priority: String(priority),
              Attributes: JSON.stringify({ team: queue }),
            });
            created.push({ priority, queue, sent, acked: performance.now() });
          } catch (err) {
            fail(String(err));
          }
        }
      }),
    );
    // The last tasks' events, bounded.
    const drainUntil = performance.now() + DRAIN_MS;
    const allSeen = () =>
      created.every((t) => watches.every((w) => w.queue !== t.queue || w.seen.has(String(t.priority))));
    while (!allSeen() && performance.now() < drainUntil) await sleep(50);
    await Promise.race([Promise.all([...lifecycles]), sleep(HOLD_MS + DRAIN_MS)]);

    const ackToEvent: number[] = [];
    const sendToEvent: number[] = [];
    let missed = 0;
    for (const t of created) {
      for (const w of watches) {
        if (w.queue !== t.queue) continue;
        const at = w.seen.get(String(t.priority));
        if (at === undefined) {
          missed++;
          continue;
        }
        ackToEvent.push(at - t.acked);
        sendToEvent.push(at - t.sent);
      }
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const rss = Number(/^roster_process_resident_memory_bytes (\S+)$/m.exec(metrics)?.[1] ?? NaN);
    return {
      ...o,
      connectSeconds: Math.round(connectSeconds * 100) / 100,
      tasksCreated: created.length,
      tasksPerSecond: Math.round(created.length / SECONDS),
      reservationsAccepted: accepted,
      tasksCompleted: completed,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      eventsReceived,
      samples: ackToEvent.length,
      missed,
      ackToEventMs: summary(ackToEvent),
      sendToEventMs: summary(sendToEvent),
      serverRssMb: Math.round(rss / 1024 / 1024),
    };
  } finally {
    for (const c of clients) c.close();
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The BENCHMARKS.md text of a run. */
export function subscribersSection(r: SubscribersRun, commit: string): string {
  return `Run of ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}; Node ${process.version}, ${r.subscribers} subscribers over ${r.queues} TaskQueues' RealTimeStatistics (SQLite, one \`roster serve\` on 127.0.0.1, stream interval ${r.intervalMs ?? 100} ms${r.intervalMs === undefined ? ', the default' : ''}), ${r.workers} agents; ${r.concurrency} loops created tasks for ${r.seconds} s (${r.tasksCreated}, ${r.tasksPerSecond}/s), agents accepted each reservation from the event stream, held the task ${r.holdMs} ms and completed it (${r.tasksCompleted} completed, ${r.errors} errors). ${r.eventsReceived.toLocaleString('en')} events received; ${r.samples.toLocaleString('en')} (task, subscriber) samples, ${r.missed} never shown. Server RSS ${r.serverRssMb} MiB.

| Latency to the first event showing the task | p50 ms | p99 ms | max ms | Target |
| --- | ---: | ---: | ---: | ---: |
| From the create's 201 | ${r.ackToEventMs.p50} | ${r.ackToEventMs.p99} | ${r.ackToEventMs.max} | p99 < 100 ${r.ackToEventMs.p99 < 100 ? 'met' : 'MISSED'} |
| From sending the create | ${r.sendToEventMs.p50} | ${r.sendToEventMs.p99} | ${r.sendToEventMs.max} | |
`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const option = (name: string): number | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    return at === -1 ? undefined : Number(process.argv[at + 1]);
  };
  const r = await runSubscribersBench({
    subscribers: option('subscribers'),
    queues: option('queues'),
    workers: option('workers'),
    seconds: option('seconds'),
    concurrency: option('concurrency'),
    holdMs: option('hold-ms'),
    intervalMs: option('interval-ms'),
  });
  log(
    `subscribers: ${r.subscribers} over ${r.queues} queues (connected in ${r.connectSeconds} s); ` +
      `${r.tasksCreated} tasks in ${r.seconds} s, ${r.tasksCompleted} completed; ` +
      `201 → event p50 ${r.ackToEventMs.p50} ms, p99 ${r.ackToEventMs.p99} ms, max ${r.ackToEventMs.max} ms; ` +
      `sent → event p50 ${r.sendToEventMs.p50} ms, p99 ${r.sendToEventMs.p99} ms; missed ${r.missed}; errors ${r.errors}`,
  );
  console.log(`RESULT ${JSON.stringify(r)}`);
}
