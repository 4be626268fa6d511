import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

let dir: string;
let store: SqliteStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roster-group-'));
  store = SqliteStore.open({ path: join(dir, 'roster.db') });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sid = (n: number) => 'AC' + String(n).padStart(32, '0');

describe('SQLite group commit', () => {
  it('commits the transactions of one turn together, isolating the one that fails', async () => {
    const seenByEffects: (boolean | null)[] = [];
    const now = new Date();
    const results = await Promise.allSettled([
      store.transaction(async (tx) => {
        await tx.upsertAccount({ sid: sid(1), authToken: 'token-one' }, now);
        tx.onCommit(() => seenByEffects.push(true));
        return 'one';
      }),
      store.transaction(async (tx) => {
        await tx.upsertAccount({ sid: sid(2), authToken: 'token-two' }, now);
        tx.onCommit(() => seenByEffects.push(false)); // must never run
        throw new Error('refused');
      }),
      store.transaction(async (tx) => {
        // Sees the writes of the transaction before it in the batch, as if run alone after it.
        expect(await tx.getAccount(sid(1))).not.toBeNull();
        await tx.upsertAccount({ sid: sid(3), authToken: 'token-three' }, now);
        tx.onCommit(() => seenByEffects.push(true));
        return 'three';
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'one' });
    expect(results[2]).toMatchObject({ value: 'three' });
    expect(seenByEffects).toEqual([true, true]);
    // Committed (the reader connection sees only committed data), the failed one not at all.
    expect(await store.getAccount(sid(1))).toMatchObject({ authToken: 'token-one' });
    expect(await store.getAccount(sid(2))).toBeNull();
    expect(await store.getAccount(sid(3))).toMatchObject({ authToken: 'token-three' });
  });

  it('resolves a transaction only once its write can be read', async () => {
    const writes = Array.from({ length: 20 }, (_, i) =>
      store.transaction((tx) => tx.upsertAccount({ sid: sid(100 + i), authToken: `t-${i}` }, new Date())),
    );
    for (const [i, write] of writes.entries()) {
      await write;
      expect(await store.getAccount(sid(100 + i))).toMatchObject({ authToken: `t-${i}` });
    }
  });

  it('runs a transaction asked for while closing before it closes', async () => {
    const other = SqliteStore.open({ path: join(dir, 'closing.db') });
    const write = other.transaction((tx) => tx.upsertAccount({ sid: sid(9), authToken: 'late' }, new Date()));
    await other.close();
    await expect(write).resolves.toBeUndefined();
  });
});
