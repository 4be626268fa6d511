import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { SidPrefix } from '../domain/sid.js';
import type { TaskChannel } from '../domain/types.js';
import { createServices } from '../services/index.js';
import { wholeSeconds } from '../services/context.js';
import { createStore, prepareDataDir } from '../storage/create-store.js';
import type { NewDomainEvent, NewWorker, WorkerChannelSettings } from '../services/ports/store.js';
import { boundedNumber, parseOptions } from './args.js';
import { resolveCredentials } from './credentials.js';
import type { Output } from './serve.js';

export const MAX_SEED_WORKERS = 10_000_000;
/** Workers per transaction: big enough to be fast, short enough not to hold off a running server's writes. */
export const SEED_BATCH = 10_000;

export interface SeedOptions {
  workers: number;
  friendlyName?: string;
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  accountSid: string;
  workspaceSid: string;
  workers: number;
  seconds: number;
}

/** `--workers N` (or `--workers=N`) and `--name NAME`; anything else is a usage error. */
export function parseSeedArgs(args: readonly string[]): { workers: number; friendlyName?: string } {
  const values = parseOptions('seed', args, ['workers', 'name']);
  if (values.workers === undefined) throw new ConfigError('seed: --workers N is required');
  return {
    workers: boundedNumber('workers', values.workers, 0, MAX_SEED_WORKERS, true),
    friendlyName: values.name,
  };
}

/**
 * SIDs that look random but rise with `index`: the first 8 hex digits spread the workers
 * evenly over the key space in order, so bulk inserts append to the SID index instead of
 * scattering over it; the other 24 are random.
 */
function risingSids(prefix: string, from: number, count: number, total: number): string[] {
  const random = randomBytes(12 * count).toString('hex');
  const step = 0x1_0000_0000 / Math.max(total, 1);
  const sids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const head = Math.floor((from + i) * step)
      .toString(16)
      .padStart(8, '0');
    sids[i] = prefix + head + random.slice(i * 24, i * 24 + 24);
  }
  return sids;
}

/**
 * Each channel's settings from a random byte of the worker's SID (one byte per channel): about
 * one channel in 85 differs from the defaults (unavailable, at capacity 0, or at capacity 2),
 * so every TaskChannel view differs while the store keeps rows for those channels only.
 */
function channelSettings(worker: NewWorker, channelIndex: number): WorkerChannelSettings {
  const at = 10 + 2 * (channelIndex % 10); // after the rising head, before the activity's byte
  const v = parseInt(worker.sid.slice(at, at + 2), 16);
  if (v === 0) return { available: false, capacity: 1 };
  if (v === 1) return { available: true, capacity: 0 };
  return { available: true, capacity: v === 2 ? 2 : 1 };
}

/** The event type of a seeded batch of workers (Roster's own; Twilio has no bulk load). */
export const WORKERS_SEEDED = 'workers.seeded';

/**
 * A batch's one event: a bulk load's change is the batch, so it is logged as one event that
 * names it (the count, and the first and last worker by SID, which rise through the batch)
 * rather than a `worker.created` per worker, which made the log most of a seeded store's size
 * and two thirds of the seed's time.
 */
function seededEvent(batch: readonly NewWorker[], accountSid: string, timeMs: number): NewDomainEvent {
  const first = batch[0]!;
  const last = batch[batch.length - 1]!;
  return {
    type: WORKERS_SEEDED,
    accountSid,
    workspaceSid: first.workspaceSid,
    resourceType: 'Workspace',
    resourceSid: first.workspaceSid,
    actor: accountSid,
    timeMs,
    data: {
      workers: batch.length,
      first_worker_sid: first.sid,
      last_worker_sid: last.sid,
      first_friendly_name: first.friendlyName,
      last_friendly_name: last.friendlyName,
    },
  };
}

/** Creates a workspace with `workers` workers spread over its activities and channels. */
export async function seed(config: Config, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const dataDir = prepareDataDir(config.dataDir);
  const store = createStore(config);
  try {
    const services = createServices(store);
    const creds = resolveCredentials(dataDir, config.account);
    await services.accounts.ensure(creds.accountSid, creds.authToken);
    const accountSid = creds.accountSid;
    const total = options.workers;
    const ws = await services.workspaces.create(accountSid, {
      friendlyName: options.friendlyName ?? `Seeded with ${total} workers`,
    });
    const activities = (await store.listActivities(ws.sid, {}, { pageSize: 1000, page: 0 })).items;
    const channelIndex = new Map<string, number>();
    for (const c of (await store.listTaskChannels(ws.sid, { pageSize: 1000, page: 0 })).items) {
      channelIndex.set(c.sid, channelIndex.size);
    }
    const channelFor = (w: NewWorker, c: TaskChannel) => channelSettings(w, channelIndex.get(c.sid) ?? 0);

    const batchSize = options.batchSize ?? SEED_BATCH;
    const width = String(Math.max(total - 1, 0)).length;
    const now = wholeSeconds(new Date());
    for (let from = 0; from < total; from += batchSize) {
      const count = Math.min(batchSize, total - from);
      const sids = risingSids(SidPrefix.worker, from, count, total);
      const batch = new Array<NewWorker>(count);
      for (let i = 0; i < count; i++) {
        const sid = sids[i]!;
        batch[i] = {
          sid,
          accountSid,
          workspaceSid: ws.sid,
          friendlyName: `Worker ${String(from + i).padStart(width, '0')}`,
          activitySid: activities[parseInt(sid.slice(-8, -6), 16) % activities.length]!.sid,
          attributes: '{}',
          now,
        };
      }
      await store.transaction(async (tx) => {
        await tx.insertWorkers(ws.sid, batch, channelFor);
        await tx.appendEvent(seededEvent(batch, accountSid, now.getTime()));
      });
      options.onProgress?.(from + count, total);
    }
    return {
      accountSid,
      workspaceSid: ws.sid,
      workers: total,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await store.close();
  }
}

/** `roster seed --workers N`: progress on a terminal (stderr); the workspace SID is the last line of stdout. */
export async function runSeed(config: Config, args: readonly string[], out: Output): Promise<number> {
  const { workers, friendlyName } = parseSeedArgs(args);
  const tty = process.stderr.isTTY === true;
  let shown = -1;
  const result = await seed(config, {
    workers,
    friendlyName,
    onProgress: tty
      ? (done, total) => {
          const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
          if (percent === shown && done !== total) return;
          shown = percent;
          process.stderr.write(
            `\rSeeding: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} workers (${percent}%)`,
          );
          if (done === total) process.stderr.write('\n');
        }
      : undefined,
  });
  out.line(
    `Seeded ${result.workers} workers into workspace ${result.workspaceSid} of account ${result.accountSid} in ${result.seconds.toFixed(1)} s`,
  );
  out.line(result.workspaceSid);
  return 0;
}
