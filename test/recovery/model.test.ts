// The store against a model: random writes and tombstones over several runs, crashes (also between
// partition commits), partition counts and backup lags. After every run the store must resume at
// the model's epoch with the model's state, and GC must have merged, at or below each partition's
// watermark, what its policy says.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initDbDir, RecoveryStore } from 'weir/recovery';
import { prng } from '../support/crashHarness.js';
import { MERGE_RATIO } from '../../src/recovery/gc.js';
import { copyPartition, decode, partFiles, rec, tempDir, withDb } from './support.js';

type State = Map<string, unknown>; // `${step}\0${key}` -> value

const STEPS = ['flow.a', 'flow.b'];

function expected(state: State): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [sk, v] of state) {
    const [step, key] = sk.split('\0') as [string, string];
    (out[step] ??= {})[key] = v;
  }
  return out;
}

/**
 * Checks what GC guarantees at each partition's watermark, for each step's segments at or below it
 * (the rows of one epoch are one segment): those added after the oldest stay below MERGE_RATIO
 * times its size, and halve in size from old to new. Only the newest may have come since the last
 * merge: the last commit of a run, or close(), merges nothing.
 */
function checkGc(dir: string): void {
  for (const f of partFiles(dir)) {
    withDb(f, (db) => {
      const watermark = db.prepare('SELECT commit_epoch FROM commits').pluck().get() as number;
      const sizes = new Map<string, Map<number, number>>();
      const sql =
        'SELECT step_id, snap_epoch, 8 * state_count + length(state_keys) + length(ser_changes) FROM snaps WHERE snap_epoch <= ? ORDER BY step_id, snap_epoch, rowid';
      for (const [step, epoch, size] of db.prepare(sql).raw().all(watermark) as [string, number, number][]) {
        const bySeg = sizes.get(step) ?? new Map<number, number>();
        bySeg.set(epoch, (bySeg.get(epoch) ?? 0) + size);
        sizes.set(step, bySeg);
      }
      for (const [step, bySeg] of sizes) {
        const [base, ...added] = [...bySeg.values()];
        added.pop(); // the newest: maybe not merged yet
        const sum = added.reduce((a, b) => a + b, 0);
        const halving = added.every((size, i) => i === 0 || added[i - 1]! > 2 * size);
        const what = JSON.stringify([f, watermark, base, added]);
        expect({ step, merged: sum < MERGE_RATIO * base! && halving }, what).toEqual({ step, merged: true });
      }
    });
  }
}

function randomValue(rand: () => number, e: number): unknown {
  const r = rand();
  if (r < 0.4) return Math.floor(rand() * 1e6) - 5e5;
  if (r < 0.6) return `v${e}-${rand().toString(36).slice(2)}`;
  if (r < 0.8) return { e, list: [rand(), 'x'], nested: { ok: rand() < 0.5 } };
  return new Map([['e', BigInt(e)]]);
}

function scenario(parts: number, lag: number, seed: number): void {
  const rand = prng(seed);
  let dir = tempDir();
  initDbDir(dir, parts);
  const keys = Array.from({ length: 1500 }, (_, i) => `k${(i * 7919) % 1500}`); // not in key order
  const history: State[] = [new Map()]; // history[e]: the state after epoch e
  let epoch = 0;
  for (let run = 0; run < 6; run++) {
    const store = RecoveryStore.open(dir);
    expect(store.resumeEpoch).toBe(epoch + 1);
    expect(decode(store.loadSnapshots())).toEqual(expected(history[epoch]!));
    store.beginExecution();
    const epochs = 1 + Math.floor(rand() * 6);
    const crash = rand() < 0.5;
    let before = '';
    for (let i = 0; i < epochs; i++) {
      const e = ++epoch;
      const state = new Map(history[e - 1]);
      const snaps = [];
      const dense = rand() < 0.3; // sometimes every key changes
      for (const k of keys) {
        if (!dense && rand() > 0.15) continue;
        const step = STEPS[Math.floor(rand() * STEPS.length)]!;
        const sk = `${step}\0${k}`;
        const value = rand() < 0.2 ? undefined : randomValue(rand, e);
        snaps.push(rec(step, k, value));
        if (value === undefined) state.delete(sk);
        else state.set(sk, value);
      }
      if (crash && parts > 1 && i === epochs - 1) {
        // Partitions other than 0 lose this last epoch: a crash between partition commits.
        before = tempDir();
        for (let p = 0; p < parts; p++) copyPartition(join(dir, `part-${p}.sqlite3`), join(before, `part-${p}.sqlite3`));
      }
      store.commitEpoch(e, snaps, e - lag);
      history[e] = state;
    }
    if (crash) {
      // Copy the files as they are, without close(): what a killed process leaves.
      const next = tempDir();
      for (let p = 0; p < parts; p++) {
        const from = before !== '' && p > 0 ? before : dir;
        copyPartition(join(from, `part-${p}.sqlite3`), join(next, `part-${p}.sqlite3`));
      }
      store.close();
      dir = next;
      if (before !== '') epoch--;
    } else {
      store.close();
    }
    checkGc(dir);
  }
}

describe('the store against a model', () => {
  for (const [parts, lag] of [
    [1, 0],
    [1, 2],
    [3, 0],
    [3, 2],
  ] as const) {
    it(`resumes the model's state, with GC merged at the watermark (${parts} partition(s), lag ${lag})`, () => {
      for (const seed of [1, 2]) scenario(parts, lag, seed);
    });
  }
});
