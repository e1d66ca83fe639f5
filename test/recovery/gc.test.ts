import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initDbDir, RecoveryStore } from 'weir/recovery';
import { MERGE_RATIO } from '../../src/recovery/gc.js';
import { SnapshotPacker } from '../../src/recovery/SnapshotPacker.js';
import { segmentLimits } from '../../src/recovery/segment.js';
import { decode, partFiles, rec, snapRows, storedRows, tempDir, withDb } from './support.js';

function open(parts: number, workerCount = 1): { dir: string; store: RecoveryStore } {
  const dir = tempDir();
  initDbDir(dir, parts);
  const store = RecoveryStore.open(dir, { workerCount });
  store.beginExecution();
  return { dir, store };
}

const KEYS = Array.from({ length: 10 }, (_, i) => `k${i}`);

/** Every (key, epoch) pair left in the store. */
function epochsByKey(dir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const f of partFiles(dir)) {
    withDb(f, (db) => {
      for (const { stateKey: k, epoch: e } of storedRows(db)) out.set(k, [...(out.get(k) ?? []), e].sort((a, b) => a - b));
    });
  }
  return out;
}

describe('GC', () => {
  it('keeps only the latest row per key when rewriting the same keys for 1000 epochs', () => {
    const { dir, store } = open(3);
    for (let e = 1; e <= 1000; e++) store.commitEpoch(e, KEYS.map((k) => rec('s', k, e)), e);
    store.close();
    // Each epoch rewrites every key: a merge every MERGE_RATIO epochs, and the last commit's unmerged.
    expect(snapRows(dir)).toBeLessThanOrEqual(KEYS.length * (MERGE_RATIO + 2));
    const again = RecoveryStore.open(dir);
    expect(again.resumeEpoch).toBe(1001);
    expect(decode(again.loadSnapshots())).toEqual({ s: Object.fromEntries(KEYS.map((k) => [k, 1000])) });
    again.close();
    for (const f of partFiles(dir)) {
      withDb(f, (db) => expect(db.prepare('SELECT commit_epoch FROM commits').pluck().get()).toBe(1000));
    }
  });

  it('keeps the snapshots within the backup interval lag', () => {
    const { dir, store } = open(2);
    const lag = 5;
    for (let e = 1; e <= 100; e++) store.commitEpoch(e, KEYS.map((k) => rec('s', k, e)), e - lag);
    store.close();
    // Above the watermark (95) every version stays; at or below it, merged versions (at most the
    // merged one and the last commit's, which merges nothing).
    expect(snapRows(dir)).toBeLessThanOrEqual(KEYS.length * (lag + MERGE_RATIO + 2));
    for (const k of KEYS) {
      const epochs = epochsByKey(dir).get(k)!;
      expect(epochs.filter((e) => e > 95)).toEqual([96, 97, 98, 99, 100]);
      expect(epochs.filter((e) => e <= 95).length).toBeLessThanOrEqual(MERGE_RATIO + 2);
    }
    for (const f of partFiles(dir)) withDb(f, (db) => expect(db.prepare('SELECT commit_epoch FROM commits').pluck().get()).toBe(95));
    const again = RecoveryStore.open(dir);
    expect(decode(again.loadSnapshots())).toEqual({ s: Object.fromEntries(KEYS.map((k) => [k, 100])) });
    again.close();
  });

  it('keeps a key written once; merges small changes among themselves, and into the base once they add up', () => {
    const { dir, store } = open(1);
    store.commitEpoch(1, [rec('s', 'once', 'kept'), rec('s', 'gone', 1), rec('s', 'flip', 1)], 1);
    store.commitEpoch(2, [rec('s', 'gone', undefined), rec('s', 'flip', undefined)], 2);
    store.commitEpoch(3, [rec('s', 'flip', 3)], 3);
    for (let e = 4; e <= 50; e++) store.commitEpoch(e, [rec('s', 'busy', e)], e);
    // The changes since the base merge among themselves (keeping a tombstone that hides 'gone' in
    // the base) or into the base: a few versions per key, whatever the number of epochs.
    let left = epochsByKey(dir);
    expect(left.get('once')).toHaveLength(1);
    expect(left.get('gone')?.length ?? 0).toBeLessThanOrEqual(2);
    expect(left.get('flip')!.length).toBeLessThanOrEqual(2);
    expect(left.get('busy')!.length).toBeLessThanOrEqual(3);
    expect(left.get('busy')!.at(-1)).toBe(50);
    expect(snapRows(dir)).toBeLessThanOrEqual(10);
    // Changes that add up to MERGE_RATIO times the base merge everything: one version per key, and
    // no tombstone.
    const many = Array.from({ length: 10 * MERGE_RATIO }, (_, i) => rec('s', `new-${i}`, i));
    store.commitEpoch(51, many, 51);
    left = epochsByKey(dir);
    expect(left.has('gone')).toBe(false);
    for (const versions of left.values()) expect(versions).toHaveLength(1);
    store.close();
    const again = RecoveryStore.open(dir);
    expect(decode(again.loadSnapshots())).toEqual({ s: { once: 'kept', flip: 3, busy: 50, ...Object.fromEntries(many.map((r, i) => [r.stateKey, i])) } });
    again.close();
  });

  it("deletes a step's segments older than its newest full one without merging them", () => {
    const { dir, store } = open(1);
    const packed = (entries: [string, unknown][], full: boolean) => {
      const p = new SnapshotPacker();
      for (const [k, v] of entries) p.add('s', k, v);
      if (full) p.markFull('s');
      return p.view();
    };
    store.commitPacked(1, packed([['a', 1], ['b', 1], ['c', 1]], false), 1);
    store.commitPacked(2, packed([['a', 2]], false), 2);
    // Damaged on purpose: a merge would have to read it and fail.
    withDb(partFiles(dir)[0]!, (db) => db.prepare("UPDATE snaps SET ser_lens = x'00' WHERE snap_epoch = 2").run());
    store.commitPacked(3, packed([['a', 3], ['b', 3], ['c', undefined]], true), 3);
    store.close();
    expect(epochsByKey(dir)).toEqual(new Map([['a', [3]], ['b', [3]], ['c', [3]]]));
    const again = RecoveryStore.open(dir);
    expect(decode(again.loadSnapshots())).toEqual({ s: { a: 3, b: 3 } });
    again.close();
  });

  it("drops a step's older segments before writing its full one, also in a commit that merges nothing, so the file does not grow", () => {
    const { dir, store } = open(1);
    const full = (epoch: number) => {
      const p = new SnapshotPacker();
      for (let i = 0; i < 20_000; i++) p.add('s', `key-${i}`, epoch * i);
      p.markFull('s');
      return p.view();
    };
    const segments = () => withDb(partFiles(dir)[0]!, (db) => db.prepare('SELECT snap_epoch FROM snaps ORDER BY snap_epoch').pluck().all());
    const size = () => {
      store.checkpoint();
      return statSync(partFiles(dir)[0]!).size;
    };
    store.commitPacked(1, full(1), 1, 0, false);
    const one = size();
    for (let epoch = 2; epoch <= 4; epoch++) {
      // merge = false, as a run's last commit: the superseded segment still goes, first.
      store.commitPacked(epoch, full(epoch), epoch, 0, false);
      expect(segments()).toEqual([epoch]);
      // The new segment took the pages of the one it superseded: the file holds one segment, not two.
      expect(size()).toBeLessThan(one * 1.25);
    }
    // Within a backup interval's lag the older segment is a resume point: it stays.
    store.commitPacked(5, full(5), 4, 0, false);
    expect(segments()).toEqual([4, 5]);
    store.close();
    const again = RecoveryStore.open(dir);
    expect(again.loadSnapshots().get('s')?.size).toBe(20_000);
    again.close();
  });

  it('writes a full segment of the same shape over the one it supersedes, so that only the pages that changed are logged', () => {
    const { dir, store } = open(1);
    store.deferCheckpoints();
    // 20,000 keys whose states keep their size from one epoch to the next (small integers), but
    // for epoch 6, where they grow (strings).
    const full = (epoch: number) => {
      const p = new SnapshotPacker();
      for (let i = 0; i < 20_000; i++) p.add('s', `key-${i}`, epoch === 6 ? `v${epoch}-${i}` : epoch * 100_000 + i);
      p.markFull('s');
      return p.view();
    };
    // The frames the last commit wrote to the WAL: a checkpoint after each commit lets the next
    // one start the WAL over.
    const framesOf = (epoch: number) => {
      store.commitPacked(epoch, full(epoch), epoch, 0, false);
      const [{ log }] = withDb(partFiles(dir)[0]!, (db) => db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[]);
      return log;
    };
    const rows = () => withDb(partFiles(dir)[0]!, (db) => db.prepare('SELECT rowid, snap_epoch FROM snaps').raw().all());
    framesOf(1);
    // Epoch 1 is stored in no byte and epoch 2 in one: the row differs in size, so it is written anew.
    const whole = framesOf(2);
    const [[rowid]] = rows() as number[][];
    for (let epoch = 3; epoch <= 5; epoch++) {
      // The same keys and lengths: only the states' pages change.
      expect(framesOf(epoch)).toBeLessThan(whole * 0.6);
      expect(rows()).toEqual([[rowid, epoch]]);
    }
    // States of another size: the row is written anew, over the pages of the one it supersedes.
    expect(framesOf(6)).toBeGreaterThanOrEqual(whole);
    expect((rows() as number[][]).map(([, epoch]) => epoch)).toEqual([6]);
    store.close();
    const again = RecoveryStore.open(dir);
    const states = decode(again.loadSnapshots()).s as Record<string, unknown>;
    again.close();
    expect(Object.keys(states)).toHaveLength(20_000);
    expect(states['key-12345']).toBe('v6-12345');
    // Back to epoch 5's shape, from a fresh start: the row written over holds epoch 5's states.
    const { dir: dir2, store: store2 } = open(1);
    for (let epoch = 2; epoch <= 5; epoch++) store2.commitPacked(epoch, full(epoch), epoch, 0, false);
    store2.close();
    const again2 = RecoveryStore.open(dir2);
    const states2 = decode(again2.loadSnapshots()).s as Record<string, unknown>;
    again2.close();
    expect(Object.keys(states2)).toHaveLength(20_000);
    expect(states2['key-0']).toBe(500_000);
    expect(states2['key-19999']).toBe(519_999);
  });

  it("marks each partition's share of a full state full, so every partition drops the step's older segments", () => {
    const { dir, store } = open(3);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    for (let e = 1; e <= 4; e++) {
      const p = new SnapshotPacker();
      for (const k of keys) p.add('s', k, e);
      p.markFull('s');
      p.add('src', 'part-0', e); // another step after it: not full
      store.commitPacked(e, p.view(), e);
    }
    store.close();
    for (const f of partFiles(dir)) {
      withDb(f, (db) => {
        // With several partitions a commit collects below its own epoch: epoch 4's commit dropped
        // 1 and 2 for 3, and close() merges nothing.
        const rows = db.prepare("SELECT snap_epoch, full FROM snaps WHERE step_id = 's'").raw().all();
        expect(rows).toEqual([
          [3, 1],
          [4, 1],
        ]);
      });
    }
    const again = RecoveryStore.open(dir);
    expect(decode(again.loadSnapshots())).toEqual({ s: Object.fromEntries(keys.map((k) => [k, 4])), src: { 'part-0': 4 } });
    again.close();
  });

  it('stores a segment over the row limit as several rows, and merges and supersedes them whole', () => {
    const limits = segmentLimits.segmentBytes;
    segmentLimits.segmentBytes = 300;
    try {
      const { dir, store } = open(1);
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
      const commit = (e: number, full: boolean, some = keys) => {
        const p = new SnapshotPacker();
        for (const k of some) p.add('s', k, `${k}@${e}`);
        if (full) p.markFull('s');
        store.commitPacked(e, p.view(), e);
      };
      const rowsByEpoch = () =>
        withDb(partFiles(dir)[0]!, (db) => db.prepare("SELECT snap_epoch, full FROM snaps WHERE step_id = 's' ORDER BY rowid").raw().all() as [number, number][]);
      commit(1, true);
      const first = rowsByEpoch();
      expect(first.length).toBeGreaterThan(5);
      expect(first.map(([, full]) => full)).toEqual(first.map((_, i) => (i === 0 ? 1 : 0)));
      // Small changes merge among themselves, not into the split base: it is counted whole.
      for (let e = 2; e <= 4; e++) commit(e, false, keys.slice(0, 10));
      expect(new Set(rowsByEpoch().map(([e]) => e))).toEqual(new Set([1, 4]));
      expect(rowsByEpoch().length).toBe(first.length + 1);
      commit(5, true);
      expect(new Set(rowsByEpoch().map(([e]) => e))).toEqual(new Set([5]));
      // Three rewrites not marked full add up to MERGE_RATIO times the base: one merge, split again.
      for (let e = 6; e <= 8; e++) commit(e, false);
      const merged = rowsByEpoch();
      expect(merged.length).toBeGreaterThan(5);
      expect(new Set(merged.map(([e]) => e))).toEqual(new Set([8]));
      store.close();
      const again = RecoveryStore.open(dir);
      expect(decode(again.loadSnapshots())).toEqual({ s: Object.fromEntries(keys.map((k) => [k, `${k}@8`])) });
      again.close();
    } finally {
      segmentLimits.segmentBytes = limits;
    }
  });

  it('ignores full marks with several workers: one worker holds only part of a step', () => {
    const { dir, store } = open(1, 2);
    const p = new SnapshotPacker();
    p.add('s', 'a', 1);
    p.markFull('s');
    store.commitPacked(1, p.view(), 0, 0);
    store.close();
    withDb(partFiles(dir)[0]!, (db) => expect(db.prepare('SELECT full FROM snaps').pluck().all()).toEqual([0]));
  });

  it('never collects past the slowest worker, so the next resume stays consistent', () => {
    const { dir, store } = open(2, 2);
    for (let e = 1; e <= 10; e++) store.commitEpoch(e, [rec('s', 'a', e)], e, 0);
    for (let e = 1; e <= 3; e++) store.commitEpoch(e, [rec('s', 'b', e)], e, 1);
    store.close();
    const again = RecoveryStore.open(dir, { workerCount: 2 });
    expect(again.resumeEpoch).toBe(4);
    expect(decode(again.loadSnapshots())).toEqual({ s: { a: 3, b: 3 } });
    again.close();
  });

  it('skips collection for gcEpoch < 1', () => {
    const { dir, store } = open(1);
    for (let e = 1; e <= 5; e++) store.commitEpoch(e, [rec('s', 'a', e)], e - 10);
    store.close();
    expect(snapRows(dir)).toBe(5);
  });
});
