import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { newAuthToken, newSid, SidPrefix } from '../domain/sid.js';
import { boundedNumber, parseOptions } from './args.js';
import { serve, type Output } from './serve.js';

export const DEMO_HELP = `roster demo — Roster with a simulated contact centre, to watch the dashboard

Options:
  --workers N     agents in the contact centre (default 300, at most 5000)
  --pace X        simulated seconds per real second (default 60: a day in 15 minutes)
  --data-dir DIR  keep the data there (default: a temporary directory, removed on exit)
Uses PORT and HOST like \`roster serve\`; always on the embedded SQLite store.
`;

export interface DemoOptions {
  workers: number;
  pace: number;
  dataDir?: string;
}

export function parseDemoArgs(args: readonly string[]): DemoOptions {
  const values = parseOptions('roster demo', args, ['workers', 'pace', 'data-dir'], DEMO_HELP);
  return {
    workers: values.workers === undefined ? 300 : boundedNumber('workers', values.workers, 1, 5000, true),
    pace: values.pace === undefined ? 60 : boundedNumber('pace', values.pace, 0.1, 3600, false),
    dataDir: values['data-dir'],
  };
}

/** Activities of the demo beyond the workspace's Offline / Available / Unavailable. */
const EXTRA_ACTIVITIES = ['On a call', 'Wrap-up', 'Break', 'Lunch', 'Training'] as const;
type ActivityName = 'Offline' | 'Available' | 'Unavailable' | (typeof EXTRA_ACTIVITIES)[number];

const FIRST = [
  'Ada',
  'Ben',
  'Chloé',
  'Dev',
  'Elif',
  'Femi',
  'Gus',
  'Hana',
  'Ivo',
  'Jun',
  'Kai',
  'Lea',
  'Mo',
  'Nia',
];
const LAST = [
  'Silva',
  'Okafor',
  'Nguyen',
  'Müller',
  'Haddad',
  'Kowalski',
  'Tanaka',
  'Moreau',
  'Rossi',
  'Ali',
];

const HOUR = 3600;
const DAY_START = 7.5 * HOUR;
const DAY_END = 20 * HOUR;

/** How busy the phones are at a time of day: mid-morning and mid-afternoon peaks. */
export function callLoad(secondOfDay: number): number {
  const h = secondOfDay / HOUR;
  const bump = (centre: number, width: number) => Math.exp(-(((h - centre) / width) ** 2));
  return Math.min(1, 0.25 + 0.7 * bump(10.5, 1.5) + 0.6 * bump(15, 1.5));
}

interface Agent {
  sid: string;
  shiftStart: number;
  shiftEnd: number;
  breaks: number[];
  lunchAt: number;
  activity: ActivityName;
  /** Simulated second of day at which it next decides (or its call or wrap-up ends). */
  nextAt: number;
  busy: boolean;
  /** The reservation it is ringing with or working on. */
  call?: { taskSid: string; reservationSid: string; accepted: boolean };
}

const rand = (min: number, max: number) => min + Math.random() * (max - min);
const exponential = (mean: number) => -Math.log(1 - Math.random()) * mean;

function newAgent(sid: string): Agent {
  const shiftStart = Math.round(rand(7.75, 11) * HOUR);
  const shiftEnd = shiftStart + Math.round(rand(7.5, 8.5) * HOUR);
  return {
    sid,
    shiftStart,
    shiftEnd,
    breaks: [shiftStart + rand(1.5, 2.5) * HOUR, shiftStart + rand(5.5, 6.5) * HOUR],
    lunchAt: shiftStart + rand(3.5, 4.5) * HOUR,
    activity: 'Offline',
    nextAt: shiftStart,
    busy: false,
  };
}

/** Mean length of a call, in simulated seconds. */
const MEAN_CALL = 300;

/**
 * The agent's next activity and for how long (simulated seconds), given the time of day. Calls
 * are not decided here: they come from Roster's routing, as reservations the agent accepts.
 */
function decide(a: Agent, now: number): { activity: ActivityName; seconds: number } {
  if (now >= a.shiftEnd || now < a.shiftStart) {
    return { activity: 'Offline', seconds: now < a.shiftStart ? a.shiftStart - now : DAY_END - now + 60 };
  }
  const due = a.breaks.findIndex((b) => now >= b);
  if (due !== -1) {
    a.breaks.splice(due, 1);
    return { activity: 'Break', seconds: rand(10, 20) * 60 };
  }
  if (now >= a.lunchAt) {
    a.lunchAt = Infinity;
    return { activity: 'Lunch', seconds: rand(30, 45) * 60 };
  }
  if (Math.random() < 0.002) return { activity: 'Training', seconds: rand(30, 60) * 60 };
  if (Math.random() < 0.01) return { activity: 'Unavailable', seconds: rand(2, 10) * 60 };
  return { activity: 'Available', seconds: rand(60, 300) };
}

/** A small client of the public API, as any TaskRouter client would call it. */
class Api {
  constructor(
    private readonly base: string,
    private readonly auth: string,
  ) {}

  async call<T>(method: string, path: string, form?: Record<string, string>): Promise<T> {
    const res = await fetch(`${this.base}/v1${path}`, {
      method,
      headers: {
        authorization: this.auth,
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    const json = (await res.json()) as T & { message?: string };
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.message ?? ''}`);
    return json;
  }
}

/** Runs `fn` on every item, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function clock(second: number): string {
  const s = Math.floor(second) % (24 * HOUR);
  return `${String(Math.floor(s / HOUR)).padStart(2, '0')}:${String(Math.floor((s % HOUR) / 60)).padStart(2, '0')}`;
}

/** Starts Roster and the simulation; resolves with a function that stops both. */
export async function runDemo(
  config: Config,
  options: DemoOptions,
  out: Output,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'roster-demo-'));
  const account = { sid: newSid(SidPrefix.account), authToken: newAuthToken() };
  const server = await serve(
    {
      ...config,
      dataDir,
      postgres: null,
      account: config.account ?? account,
      // The simulation's requests would drown the terminal; keep warnings and errors.
      logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel,
    },
    { line: () => undefined },
  );
  const creds = config.account ?? account;
  const api = new Api(
    server.url,
    'Basic ' + Buffer.from(`${creds.sid}:${creds.authToken}`).toString('base64'),
  );

  out.line(`Setting up a contact centre of ${options.workers} agents…`);
  const ws = await api.call<{ sid: string }>('POST', '/Workspaces', { FriendlyName: 'Demo contact centre' });
  for (const name of EXTRA_ACTIVITIES) {
    await api.call('POST', `/Workspaces/${ws.sid}/Activities`, { FriendlyName: name, Available: 'false' });
  }
  const list = await api.call<{ activities: { sid: string; friendly_name: string }[] }>(
    'GET',
    `/Workspaces/${ws.sid}/Activities?PageSize=100`,
  );
  const activitySid = new Map(list.activities.map((a) => [a.friendly_name as ActivityName, a.sid]));

  const agents: Agent[] = [];
  const indices = Array.from({ length: options.workers }, (_, i) => i);
  await inParallel(indices, 8, async (i) => {
    const name = `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) % LAST.length]} ${String(i + 1).padStart(4, '0')}`;
    const skills = ['voice', ...(i % 3 === 0 ? ['chat'] : []), ...(i % 5 === 0 ? ['sms'] : [])];
    const w = await api.call<{ sid: string }>('POST', `/Workspaces/${ws.sid}/Workers`, {
      FriendlyName: name,
      Attributes: JSON.stringify({ skills, team: `Team ${1 + (i % 8)}` }),
    });
    // Channels the agent has no skill for are switched off, so each channel's chart differs.
    for (const channel of ['chat', 'sms', 'video']) {
      if (!skills.includes(channel)) {
        await api.call('POST', `/Workspaces/${ws.sid}/Workers/${w.sid}/Channels/${channel}`, {
          Available: 'false',
        });
      }
    }
    agents[i] = newAgent(w.sid);
  });

  // Routing: every call goes to the "Calls" queue (every agent with the voice skill); the
  // reservation times out after 30 s and the worker then goes to Unavailable.
  const calls = await api.call<{ sid: string }>('POST', `/Workspaces/${ws.sid}/TaskQueues`, {
    FriendlyName: 'Calls',
    TargetWorkers: "skills HAS 'voice'",
  });
  await api.call('POST', `/Workspaces/${ws.sid}/Workflows`, {
    FriendlyName: 'Inbound calls',
    TaskReservationTimeout: '30',
    Configuration: JSON.stringify({
      task_routing: {
        filters: [
          {
            filter_friendly_name: 'VIP',
            expression: 'vip == true',
            targets: [{ queue: calls.sid, priority: 10 }],
          },
        ],
        default_filter: { queue: calls.sid },
      },
    }),
  });

  out.line('');
  out.line(`Dashboard:   ${server.url}/`);
  out.line(`Account SID: ${creds.sid}`);
  out.line(`Auth token:  ${creds.authToken}`);
  out.line(`Workspace:   ${ws.sid} (Demo contact centre, ${options.workers} agents)`);
  out.line(`Pace: ${options.pace} simulated seconds per second. Ctrl-C stops it.`);
  out.line('');

  // The simulated day starts just before the first log-ons.
  let simNow = DAY_START;
  let last = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  let lastReport = 0;
  let lastPoll = 0;
  let polling = false;
  let arrivals = 0;
  let creating = 0;
  const counts = { created: 0, accepted: 0, completed: 0 };
  const bySid = new Map(agents.map((a) => [a.sid, a]));
  const activity = (name: ActivityName) => activitySid.get(name)!;
  /** A request of the simulation: bounded in number, its failure said once it is not stopping. */
  const send = (what: () => Promise<unknown>, after?: () => void, always?: () => void, quiet = false) => {
    const call = what()
      .then(after, (err: unknown) => !stopped && !quiet && out.line(`demo: ${(err as Error).message}`))
      .finally(() => {
        always?.();
        inFlight.delete(call);
      });
    inFlight.add(call);
  };
  const wsPath = `/Workspaces/${ws.sid}`;
  const reservationPath = (c: NonNullable<Agent['call']>) =>
    `${wsPath}/Tasks/${c.taskSid}/Reservations/${c.reservationSid}`;

  /** Finds the reservations Roster made and lets their agents pick up after a few rings. */
  const pollReservations = async () => {
    const reserved = await api.call<{ tasks: { sid: string }[] }>(
      'GET',
      `${wsPath}/Tasks?AssignmentStatus=reserved&PageSize=1000`,
    );
    for (const task of reserved.tasks) {
      const list = await api.call<{ reservations: { sid: string; worker_sid: string }[] }>(
        'GET',
        `${wsPath}/Tasks/${task.sid}/Reservations?ReservationStatus=pending`,
      );
      for (const r of list.reservations) {
        const agent = bySid.get(r.worker_sid);
        if (!agent || agent.call) continue;
        agent.call = { taskSid: task.sid, reservationSid: r.sid, accepted: false };
        agent.nextAt = simNow + rand(3, 15); // it rings
      }
    }
  };

  const tick = () => {
    const real = performance.now();
    const dt = ((real - last) / 1000) * options.pace;
    simNow += dt;
    last = real;
    if (simNow >= DAY_END + HOUR) {
      simNow = DAY_START; // a new day
      for (const [i, a] of agents.entries()) {
        agents[i] = { ...newAgent(a.sid), activity: a.activity, call: a.call, busy: a.busy };
      }
    }
    // Calls arrive with the load of the hour, for the agents on shift; callers hang up after a
    // few minutes' wait (the task's TTL, in real seconds).
    const onShift = agents.filter((a) => simNow >= a.shiftStart && simNow < a.shiftEnd).length;
    arrivals += ((dt * callLoad(simNow) * onShift) / MEAN_CALL) * 0.8;
    const patience = Math.max(1, Math.round(rand(120, 600) / options.pace));
    // Callers who cannot get through (the API busy) do not queue up here: at most a few wait.
    arrivals = Math.min(arrivals, 8);
    while (arrivals >= 1 && creating < 4) {
      arrivals -= 1;
      creating++;
      send(
        () =>
          api.call('POST', `${wsPath}/Tasks`, {
            TaskChannel: 'voice',
            Timeout: String(patience),
            Attributes: JSON.stringify({ type: 'call', vip: Math.random() < 0.05 }),
          }),
        () => counts.created++,
        () => creating--,
      );
    }
    if (!polling && real - lastPoll > 250) {
      lastPoll = real;
      polling = true;
      send(pollReservations, undefined, () => (polling = false));
    }

    for (const a of agents) {
      // Bounded: an agent with a change in flight waits; the API is never flooded.
      if (a.busy || a.nextAt > simNow || inFlight.size >= 24) continue;
      const c = a.call;
      if (c && !c.accepted) {
        // Picks up: the reservation is accepted and the agent goes on the call.
        a.busy = true;
        send(
          () =>
            api.call('POST', reservationPath(c), {
              ReservationStatus: 'accepted',
              WorkerActivitySid: activity('On a call'),
            }),
          () => {
            counts.accepted++;
            c.accepted = true;
            a.activity = 'On a call';
            a.nextAt = simNow + exponential(MEAN_CALL - 30) + 30;
          },
          () => {
            a.busy = false;
            if (!c.accepted) a.call = undefined;
          },
          // Refused when the reservation ended meanwhile: it timed out, or the caller hung up.
          true,
        );
        continue;
      }
      if (c && a.activity === 'On a call') {
        // Hangs up and wraps up.
        a.busy = true;
        send(
          async () => {
            await api.call('POST', reservationPath(c), { ReservationStatus: 'wrapping' });
            await api.call('POST', `${wsPath}/Workers/${a.sid}`, { ActivitySid: activity('Wrap-up') });
          },
          () => {
            a.activity = 'Wrap-up';
            a.nextAt = simNow + exponential(60) + 15;
          },
          () => (a.busy = false),
        );
        continue;
      }
      if (c) {
        // Wrap-up done: the task is completed and the agent is free again.
        a.busy = true;
        send(
          async () => {
            await api.call('POST', reservationPath(c), { ReservationStatus: 'completed' });
            await api.call('POST', `${wsPath}/Workers/${a.sid}`, { ActivitySid: activity('Available') });
          },
          () => {
            counts.completed++;
            a.activity = 'Available';
          },
          () => {
            a.call = undefined;
            a.busy = false;
            a.nextAt = simNow + rand(60, 300);
          },
        );
        continue;
      }
      const next = decide(a, simNow);
      a.nextAt = simNow + next.seconds;
      if (next.activity === a.activity) continue;
      a.busy = true;
      // Leaving for a break while a call rings turns the call down, so it goes to someone else.
      send(
        () =>
          api.call('POST', `${wsPath}/Workers/${a.sid}`, {
            ActivitySid: activity(next.activity),
            ...(next.activity === 'Available' ? {} : { RejectPendingReservations: 'true' }),
          }),
        () => (a.activity = next.activity),
        () => (a.busy = false),
      );
    }
    if (real - lastReport > 10_000) {
      lastReport = real;
      const count = (n: ActivityName) => agents.filter((a) => a.activity === n).length;
      out.line(
        `${clock(simNow)}  on shift ${agents.length - count('Offline')}, available ${count('Available')}, on a call ${count('On a call')}, on break ${count('Break') + count('Lunch')}; calls: ${counts.created} in, ${counts.accepted} answered, ${counts.completed} completed`,
      );
    }
  };
  const timer = setInterval(tick, 100);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
      await server.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    })());
  return { url: server.url, stop };
}
