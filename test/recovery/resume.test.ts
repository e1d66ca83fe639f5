import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initDbDir, RecoveryError, RecoveryStore, v8Serde } from 'weir/recovery';
import { copyPartition, decode, partFiles, rec, tempDir, withDb } from './support.js';

function freshStore(parts: number, workerCount = 1): { dir: string; store: RecoveryStore } {
  const dir = tempDir();
  initDbDir(dir, parts);
  const store = RecoveryStore.open(dir, { workerCount });
  store.beginExecution();
  return { dir, store };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);

describe('resume epoch', () => {
  it('is 1 for a fresh store, with nothing to load', () => {
    const { store } = freshStore(2);
    expect(store.resumeEpoch).toBe(1);
    expect(store.loadSnapshots().size).toBe(0);
    store.close();
  });

  it('follows the committed epochs, and loads the latest state without tombstones', () => {
    const { dir, store } = freshStore(3);
    for (let e = 1; e <= 5; e++) {
      const snaps = [rec('f.a', 'x', e), rec('f.b', 'y', { epoch: e, m: new Map([['e', BigInt(e)]]) })];
      if (e <= 3) snaps.push(rec('f.a', 'z', e * 10));
      if (e === 4) snaps.push(rec('f.a', 'z', undefined));
      if (e === 1) snaps.push(rec('f.c', 'once', 'first'));
      store.commitEpoch(e, snaps, e);
    }
    store.close();
    const again = RecoveryStore.open(dir);
    expect(again.resumeEpoch).toBe(6);
    expect(decode(again.loadSnapshots())).toEqual({
      'f.a': { x: 5 },
      'f.b': { y: { epoch: 5, m: new Map([['e', 5n]]) } },
      'f.c': { once: 'first' },
    });
    again.close();
  });

  it('numbers executions across runs and records them in every partition', () => {
    const { dir, store } = freshStore(2);
    store.commitEpoch(1, [], 1);
    store.close();
    const second = RecoveryStore.open(dir, { workerCount: 3 });
    expect(second.beginExecution()).toBe(2);
    second.close();
    for (const f of partFiles(dir)) {
      withDb(f, (db) => {
        expect(db.prepare('SELECT ex_num, worker_count, resume_epoch FROM exs ORDER BY ex_num').raw().all()).toEqual([
          [1, 1, 1],
          [2, 3, 2],
        ]);
        expect(db.prepare('SELECT COUNT(*) FROM fronts WHERE ex_num = 2').pluck().get()).toBe(3);
      });
    }
  });

  it('resumes at the slowest worker, ignoring and then deleting later snapshots', () => {
    const { dir, store } = freshStore(2, 2);
    for (let e = 1; e <= 5; e++) store.commitEpoch(e, [rec('s', 'a', e)], 0, 0);
    for (let e = 1; e <= 3; e++) store.commitEpoch(e, [rec('s', 'b', e)], 0, 1);
    store.close();
    const again = RecoveryStore.open(dir, { workerCount: 2 });
    expect(again.resumeEpoch).toBe(4);
    expect(decode(again.loadSnapshots())).toEqual({ s: { a: 3, b: 3 } });
    const future = () =>
      partFiles(dir).reduce(
        (n, f) => n + withDb(f, (db) => db.prepare('SELECT COUNT(*) FROM snaps WHERE snap_epoch >= 4').pluck().get() as number),
        0,
      );
    expect(future()).toBe(2);
    again.beginExecution();
    expect(future()).toBe(0);
    expect(decode(again.loadSnapshots())).toEqual({ s: { a: 3, b: 3 } });
    again.close();
  });

  it('resumes consistently after a crash between partition commits', () => {
    const { dir, store } = freshStore(3);
    const ks = keys(30);
    for (let e = 1; e <= 4; e++) store.commitEpoch(e, ks.map((k, i) => rec('s', k, e * 100 + i)), e);
    store.close();
    const before = tempDir();
    for (let i = 0; i < 3; i++) copyPartition(join(dir, `part-${i}.sqlite3`), join(before, `part-${i}.sqlite3`));

    // Epoch 5 reaches every partition, but the process dies before GC...
    const run2 = RecoveryStore.open(dir);
    run2.beginExecution();
    run2.commitEpoch(5, ks.map((k, i) => rec('s', k, 500 + i)), 0);
    run2.close();
    // ...and, as if it died mid-commit, partitions 1 and 2 never saw epoch 5.
    for (const i of [1, 2]) copyPartition(join(before, `part-${i}.sqlite3`), join(dir, `part-${i}.sqlite3`));

    const run3 = RecoveryStore.open(dir);
    expect(run3.resumeEpoch).toBe(5);
    const epoch4 = Object.fromEntries(ks.map((k, i) => [k, 400 + i]));
    expect(decode(run3.loadSnapshots())).toEqual({ s: epoch4 });
    expect(run3.beginExecution()).toBe(3);
    withDb(join(dir, 'part-0.sqlite3'), (db) =>
      expect(db.prepare('SELECT COUNT(*) FROM snaps WHERE snap_epoch >= 5').pluck().get()).toBe(0),
    );
    run3.commitEpoch(5, ks.map((k, i) => rec('s', k, 5000 + i)), 5);
    run3.close();

    const run4 = RecoveryStore.open(dir);
    expect(run4.resumeEpoch).toBe(6);
    expect(decode(run4.loadSnapshots())).toEqual({ s: Object.fromEntries(ks.map((k, i) => [k, 5000 + i])) });
    run4.close();
  });

  it('rejects commits before beginExecution, below the resume epoch, or from unknown workers', () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const store = RecoveryStore.open(dir);
    expect(() => store.commitEpoch(1, [], 0)).toThrow(/beginExecution/);
    store.beginExecution();
    expect(() => store.beginExecution()).toThrow(RecoveryError);
    expect(() => store.commitEpoch(0, [], 0)).toThrow(/resume epoch/);
    expect(() => store.commitEpoch(1, [], 0, 1)).toThrow(/workerIndex/);
    store.close();
    store.close();
    expect(() => store.loadSnapshots()).toThrow(/closed/);
  });

  it('round-trips many keys over several partitions', () => {
    const { dir, store } = freshStore(4);
    const n = 50_000;
    const snaps = Array.from({ length: n }, (_, i) => ({
      stepId: `step${i % 3}`,
      stateKey: `key-${i}`,
      ser: v8Serde.serialize(i),
    }));
    store.commitEpoch(1, snaps, 1);
    store.close();
    const again = RecoveryStore.open(dir);
    const loaded = again.loadSnapshots();
    again.close();
    expect([...loaded.keys()].sort()).toEqual(['step0', 'step1', 'step2']);
    let total = 0;
    for (const [step, states] of loaded) {
      total += states.size;
      for (const [key, ser] of states) {
        const i = Number(key.slice(4));
        expect(step).toBe(`step${i % 3}`);
        if (i % 997 === 0) expect(v8Serde.deserialize(ser)).toBe(i);
      }
    }
    expect(total).toBe(n);
  });
});
