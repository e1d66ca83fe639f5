import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InconsistentPartitionsError, initDbDir, RecoveryStore, partitionFor } from 'weir/recovery';
import { copyPartition, decode, rec, tempDir, withDb } from './support.js';

const PARTS = 3;
const KEYS = Array.from({ length: 60 }, (_, i) => `k${i}`);

/** What epoch `e` writes: about a third of the keys change, and some are deleted and re-created. */
function changes(e: number): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  KEYS.forEach((k, i) => {
    if (i % 10 === 0 && e === 7) out.push([k, undefined]);
    else if ((i + e) % 3 === 0) out.push([k, `${k}@${e}`]);
  });
  return out;
}

/** Runs epochs `from..to`, keeping `model` in step, and returns the model as of each epoch. */
function run(
  store: RecoveryStore,
  from: number,
  to: number,
  lag: number,
  model: Map<string, string>,
  onEpoch?: (e: number) => void,
): void {
  for (let e = from; e <= to; e++) {
    const ch = changes(e);
    store.commitEpoch(e, ch.map(([k, v]) => rec('flow.step', k, v)), e - lag);
    for (const [k, v] of ch) (v === undefined ? model.delete(k) : model.set(k, v));
    onEpoch?.(e);
  }
}

/** Runs 20 epochs with the given GC lag, backing up part-1 at epoch 10, then restores it. */
function backupAndRestore(lag: number, checkpoint: boolean): { dir: string; at10: Record<string, string> } {
  const dir = tempDir();
  const backups = tempDir();
  initDbDir(dir, PARTS);
  const store = RecoveryStore.open(dir);
  store.beginExecution();
  const model = new Map<string, string>();
  let at10: Record<string, string> = {};
  const part1 = join(dir, 'part-1.sqlite3');
  run(store, 1, 20, lag, model, (e) => {
    if (e !== 10) return;
    at10 = Object.fromEntries(model);
    if (checkpoint) withDb(part1, (db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    copyPartition(part1, join(backups, 'part-1.sqlite3'));
  });
  store.close();
  copyPartition(join(backups, 'part-1.sqlite3'), part1);
  return { dir, at10 };
}

describe('restoring one partition from an older backup', () => {
  it('spreads the test keys over every partition', () => {
    const used = new Set(KEYS.map((k) => partitionFor('flow.step', k, PARTS)));
    expect(used.size).toBe(PARTS);
  });

  for (const checkpoint of [false, true]) {
    it(`resumes at the backup's epoch when the backup interval covers it (${checkpoint ? 'after a checkpoint' : 'with -wal/-shm'})`, () => {
      const { dir, at10 } = backupAndRestore(10, checkpoint);
      const store = RecoveryStore.open(dir);
      expect(store.resumeEpoch).toBe(11);
      expect(decode(store.loadSnapshots())).toEqual({ 'flow.step': at10 });

      // Replaying epochs 11..20 from the restored state gives the same store as the first run.
      store.beginExecution();
      const model = new Map(Object.entries(at10));
      run(store, 11, 20, 10, model);
      store.close();
      const again = RecoveryStore.open(dir);
      expect(again.resumeEpoch).toBe(21);
      expect(decode(again.loadSnapshots())).toEqual({ 'flow.step': Object.fromEntries(model) });
      again.close();
    });
  }

  it('throws InconsistentPartitionsError when the others were collected past the backup', () => {
    const { dir } = backupAndRestore(0, true);
    let err: unknown;
    try {
      RecoveryStore.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InconsistentPartitionsError);
    const e = err as InconsistentPartitionsError;
    expect(e.resumeEpoch).toBe(11);
    expect(e.partitions.map((p) => [p.partIndex, p.commitEpoch])).toEqual([
      [0, 20],
      [2, 20],
    ]);
    expect(e.message).toContain('part-1.sqlite3');
    expect(e.message).toContain('restore all part-* files from the same backup');
    expect(e.message).toContain('backup interval');
  });

  it('throws when the backup interval falls one epoch short', () => {
    const { dir } = backupAndRestore(9, false);
    expect(() => RecoveryStore.open(dir)).toThrow(InconsistentPartitionsError);
  });
});
