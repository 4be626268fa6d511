import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSeedArgs, runSeed, seed, WORKERS_SEEDED } from '../../src/cli/seed.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { Recounter } from './recount.js';

const dir = mkdtempSync(join(tmpdir(), 'roster-seed-'));
const config = loadConfig({ ROSTER_DATA_DIR: dir });
const path = join(dir, 'roster.db');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('roster seed', () => {
  it('parses its arguments', () => {
    expect(parseSeedArgs(['--workers', '1_000_000'])).toEqual({
      workers: 1_000_000,
      friendlyName: undefined,
    });
    expect(parseSeedArgs(['--workers=5', '--name', 'Big'])).toEqual({ workers: 5, friendlyName: 'Big' });
    for (const bad of [
      [],
      ['--workers'],
      ['--workers', '-1'],
      ['--workers', 'many'],
      ['--workers', '1', '--x'],
    ]) {
      expect(() => parseSeedArgs(bad), bad.join(' ')).toThrow(ConfigError);
    }
  });

  it('loads workers in bulk with exact statistics, seen by a server already running on the store', async () => {
    // A server's store, open before the seed and left open during it.
    const running = SqliteStore.open({ path });
    try {
      const result = await seed(config, { workers: 20_000, batchSize: 3_000 });
      expect(result.workers).toBe(20_000);
      const recounter = new Recounter(path);
      try {
        expect(recounter.totalWorkers(result.workspaceSid)).toBe(20_000);
        // One event per committed batch (3,000 workers each), naming it: its count and its first
        // and last worker (SIDs and names rise through the seed).
        const logged = recounter.events(result.workspaceSid);
        expect(logged.filter((e) => e.type === 'worker.created')).toEqual([]);
        const seeded = logged.filter((e) => e.type === WORKERS_SEEDED);
        expect(seeded.map((e) => e.data.workers)).toEqual([3_000, 3_000, 3_000, 3_000, 3_000, 3_000, 2_000]);
        expect(seeded.every((e) => e.resourceSid === result.workspaceSid)).toBe(true);
        const all = await running.listWorkers(result.workspaceSid, {}, { pageSize: 20_000, page: 0 });
        const sids = all.items.map((w) => w.sid);
        expect(sids).toEqual([...sids].sort());
        expect(seeded.map((e) => [e.data.first_worker_sid, e.data.last_worker_sid])).toEqual(
          seeded.map((_, i) => [sids[i * 3_000], sids[Math.min(i * 3_000 + 2_999, 19_999)]]),
        );
        expect(seeded[0]!.data).toMatchObject({
          first_friendly_name: 'Worker 00000',
          last_friendly_name: 'Worker 02999',
        });
        const counts = await running.activityCounts(result.workspaceSid);
        expect(counts).toEqual(recounter.counts(result.workspaceSid));
        // Spread over every activity, and over channels that differ from each other.
        expect(counts.every((c) => c.workers > 20_000 / counts.length / 2)).toBe(true);
        const channels = (await running.listTaskChannels(result.workspaceSid, { pageSize: 50, page: 0 }))
          .items;
        const views = new Set<string>();
        for (const c of channels) {
          const byChannel = await running.activityCounts(result.workspaceSid, c.sid);
          expect(byChannel, c.uniqueName).toEqual(recounter.counts(result.workspaceSid, c.sid));
          const eligible = byChannel.reduce((s, a) => s + a.workers, 0);
          expect(eligible).toBeGreaterThan(0);
          expect(eligible).toBeLessThan(20_000);
          views.add(JSON.stringify(byChannel));
        }
        expect(views.size).toBe(channels.length);
        // Every worker has one channel per task channel, as one made over HTTP does.
        const page = await running.listWorkers(result.workspaceSid, {}, { pageSize: 5, page: 0 });
        for (const w of page.items) {
          expect((await running.listWorkerChannels(w.sid, { pageSize: 50, page: 0 })).items).toHaveLength(
            channels.length,
          );
        }
      } finally {
        recounter.close();
      }
    } finally {
      await running.close();
    }
  });

  it('prints the new workspace SID as its last line', async () => {
    const lines: string[] = [];
    expect(await runSeed(config, ['--workers', '10'], { line: (t) => lines.push(t) })).toBe(0);
    expect(lines.at(-1)).toMatch(/^WS[0-9a-f]{32}$/);
    const recounter = new Recounter(path);
    try {
      expect(recounter.totalWorkers(lines.at(-1)!)).toBe(10);
    } finally {
      recounter.close();
    }
  });
});
