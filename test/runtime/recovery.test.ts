import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import {
  InconsistentPartitionsError,
  MissingPartitionsError,
  NoPartitionsError,
  RecoveryConfig,
  initDbDir,
} from 'weir/recovery';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';

type KV = [string, number | null];
type Inp = (KV | TestingMarker)[];
import { tempDir } from '../support/tmp.js';
import { storedRows } from '../recovery/support.js';
import { MERGE_RATIO } from '../../src/recovery/gc.js';

/** A stateless pass-through flow, as in Bytewax's recovery tests. */
function passFlow(inp: unknown[], out: unknown[]): Dataflow {
  const flow = new Dataflow('test_df');
  flow.pipe(op.input('inp', new TestingSource(inp)), op.output('out', new TestingSink(out)));
  return flow;
}

/** Keeps the max value per key; a value of null resets (discards) the key. */
function keepMaxFlow(inp: Inp, out: unknown[]): Dataflow {
  const flow = new Dataflow('test_df');
  flow.pipe(
    op.input('inp', new TestingSource<KV>(inp)),
    op.keyOn('keyer', (x: [string, number | null]) => x[0]),
    op.statefulMap('keep_max', (max: number | undefined, [, v]: [string, number | null]) => {
      if (v === null) return [undefined, undefined];
      const next = max === undefined ? v : Math.max(max, v);
      return [next, next];
    }),
    op.output('out', new TestingSink(out)),
  );
  return flow;
}

function snapRows(dir: string): { file: string; step: string; key: string; epoch: number; isNull: boolean }[] {
  const rows = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.sqlite3'))) {
    const db = new Database(join(dir, f), { readonly: true });
    for (const r of storedRows(db)) rows.push({ file: f, step: r.stepId, key: r.stateKey, epoch: r.epoch, isNull: r.ser === null });
    db.close();
  }
  return rows;
}

function copyStore(from: string, to: string, only?: string): void {
  for (const f of readdirSync(from)) if (!only || f.startsWith(only)) copyFileSync(join(from, f), join(to, f));
}

for (const parts of [1, 3]) {
  describe(`recovery scenarios with ${parts} partition(s)`, () => {
    const setup = (backupInterval = 0) => {
      const dir = tempDir();
      initDbDir(dir, parts);
      return { dir, recovery: new RecoveryConfig(dir, { backupInterval }) };
    };

    it('abort with no snapshots replays from the start', async () => {
      const { recovery } = setup();
      const inp = [0, 1, 2, TestingSource.ABORT(), 3, 4];
      const out: number[] = [];
      const r1 = await runMain(passFlow(inp, out), { epochInterval: 5000, recovery });
      expect(r1.reason).toBe('aborted');
      expect(out).toEqual([0, 1, 2]);
      out.length = 0;
      await runMain(passFlow(inp, out), { epochInterval: 5000, recovery });
      expect(out).toEqual([0, 1, 2, 3, 4]);
    });

    it('abort with snapshots resumes after the last complete epoch', async () => {
      const { recovery } = setup();
      const inp = [0, 1, 2, TestingSource.ABORT(), 3, 4];
      const out: number[] = [];
      await runMain(passFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([0, 1, 2]);
      out.length = 0;
      await runMain(passFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([3, 4]);
    });

    it('abort with snapshots resumes keyed state', async () => {
      const { recovery } = setup();
      const inp: Inp = [['a', 4], ['b', 4], TestingSource.ABORT(), ['a', 1], ['b', 5]];
      const out: unknown[] = [];
      await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([['a', 4], ['b', 4]]);
      out.length = 0;
      await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([['a', 4], ['b', 5]]);
    });

    it('continues after EOF', async () => {
      const { recovery } = setup();
      const inp = [0, 1, 2, TestingSource.EOF(), 3, 4, TestingSource.EOF()];
      const out: number[] = [];
      const r1 = await runMain(passFlow(inp, out), { epochInterval: 0, recovery });
      expect(r1.reason).toBe('eof');
      expect(out).toEqual([0, 1, 2]);
      out.length = 0;
      const r2 = await runMain(passFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([3, 4]);
      expect(r2.firstEpoch).toBe(r1.lastEpoch + 1);
      out.length = 0;
      await runMain(passFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([]);
    });

    it('continuation with a delayed backup: an old copy of the store resumes from its own epoch', async () => {
      const { dir, recovery } = setup(1000);
      const inp: Inp = [['a', 1], ['b', 2], TestingSource.EOF(), ['a', 5], ['b', 1], TestingSource.EOF(), ['a', 7]];
      const out: unknown[] = [];
      await runMain(keepMaxFlow(inp, out), { epochInterval: 100, recovery });
      expect(out).toEqual([['a', 1], ['b', 2]]);
      // Back up one partition (or the only one) after the first run.
      const backup = tempDir();
      copyStore(dir, backup, 'part-0');
      out.length = 0;
      await runMain(keepMaxFlow(inp, out), { epochInterval: 100, recovery });
      expect(out).toEqual([['a', 5], ['b', 2]]);
      // Restore the backup of part-0 only: the backup interval kept the others' older snapshots,
      // so the run resumes consistently from the older epoch and repeats the second run.
      for (const f of readdirSync(dir)) if (f.startsWith('part-0')) rmSync(join(dir, f));
      copyStore(backup, dir);
      out.length = 0;
      await runMain(keepMaxFlow(inp, out), { epochInterval: 100, recovery });
      expect(out).toEqual([['a', 5], ['b', 2]]);
    });

    it('state spread over several partitions resumes for every key', async () => {
      const { dir, recovery } = setup();
      const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
      const inp: Inp = [...keys.map((k, i): KV => [k, i]), TestingSource.EOF(), ...keys.map((k): KV => [k, 0])];
      const out: unknown[] = [];
      await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
      const files = new Set(snapRows(dir).filter((r) => r.step === 'test_df.keep_max').map((r) => r.file));
      expect(files.size).toBe(parts);
      out.length = 0;
      await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual(keys.map((k, i) => [k, i]));
    });
  });
}

describe('recovery errors', () => {
  it('refuses an empty directory', async () => {
    const dir = tempDir();
    await expect(runMain(passFlow([1], []), { recovery: new RecoveryConfig(dir) })).rejects.toThrow(NoPartitionsError);
  });

  it('refuses a missing partition', async () => {
    const dir = tempDir();
    initDbDir(dir, 3);
    rmSync(join(dir, 'part-1.sqlite3'));
    await expect(runMain(passFlow([1], []), { recovery: new RecoveryConfig(dir) })).rejects.toThrow(MissingPartitionsError);
  });

  it('refuses a missing directory with a message naming it', async () => {
    const dir = join(tempDir(), 'nope');
    await expect(runMain(passFlow([1], []), { recovery: new RecoveryConfig(dir) })).rejects.toThrow(/nope/);
  });

  it('refuses inconsistent partitions when the backup interval did not keep old snapshots', async () => {
    const dir = tempDir();
    initDbDir(dir, 3);
    const recovery = new RecoveryConfig(dir, { backupInterval: 0 });
    const inp: Inp = [['a', 1], ['b', 2], ['c', 3], TestingSource.EOF(), ['a', 5], ['b', 6], ['c', 7], TestingSource.EOF()];
    await runMain(keepMaxFlow(inp, []), { epochInterval: 0, recovery });
    const backup = tempDir();
    copyStore(dir, backup, 'part-0');
    await runMain(keepMaxFlow(inp, []), { epochInterval: 0, recovery });
    for (const f of readdirSync(dir)) if (f.startsWith('part-0')) rmSync(join(dir, f));
    copyStore(backup, dir);
    await expect(runMain(keepMaxFlow(inp, []), { epochInterval: 0, recovery })).rejects.toThrow(InconsistentPartitionsError);
  });
});

describe('stateful end of stream', () => {
  it('a logic that discards at EOF starts afresh on continuation; one that retains continues', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const inp: ([string, number] | TestingMarker)[] = [['a', 1], ['a', 2], TestingSource.EOF(), ['a', 10], TestingSource.EOF()];
    const build = (out: unknown[]) => {
      const flow = new Dataflow('eof');
      const keyed = flow.pipe(op.input('inp', new TestingSource(inp)), op.keyOn('k', (x: [string, number]) => x[0]), op.mapValue('v', (x: [string, number]) => x[1]));
      const { trues } = op.branch('dup', keyed, () => true);
      trues.pipe(
        op.foldFinal('sum_final', () => 0, (s: number, v: number) => s + v),
        op.map('tag_final', (x: [string, number]) => ['final', ...x]),
        op.output('out_final', new TestingSink(out)),
      );
      keyed.pipe(
        op.statefulMap('sum_running', (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v]),
        op.map('tag_running', (x: [string, number]) => ['running', ...x]),
        op.output('out_running', new TestingSink(out)),
      );
      return flow;
    };
    const out1: unknown[] = [];
    await runMain(build(out1), { epochInterval: 0, recovery });
    expect(out1).toContainEqual(['final', 'a', 3]);
    expect(out1).toContainEqual(['running', 'a', 3]);
    const out2: unknown[] = [];
    await runMain(build(out2), { epochInterval: 0, recovery });
    expect(out2).toContainEqual(['final', 'a', 10]); // discarded at EOF: fresh sum
    expect(out2).toContainEqual(['running', 'a', 13]); // retained: continues
  });

  it('a per-key tombstone drops just that key after a resume', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const inp: Inp = [['a', 5], ['b', 5], ['a', null], TestingSource.EOF(), ['a', 1], ['b', 1]];
    const out: unknown[] = [];
    await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
    // The latest version of 'a' is a tombstone, or GC has already dropped the key entirely.
    const rows = snapRows(dir).filter((r) => r.key === 'a' && r.step === 'test_df.keep_max');
    const latest = rows.sort((x, y) => y.epoch - x.epoch)[0];
    expect(latest === undefined || latest.isNull).toBe(true);
    expect(snapRows(dir).some((r) => r.key === 'b' && !r.isNull)).toBe(true);
    out.length = 0;
    await runMain(keepMaxFlow(inp, out), { epochInterval: 0, recovery });
    expect(out).toEqual([['a', 1], ['b', 5]]);
  });

  it('GC keeps the store proportional to the state, not to the epoch count', async () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    const recovery = new RecoveryConfig(dir);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const inp: Inp = Array.from({ length: 2000 }, (_, i): KV => [keys[i % keys.length]!, i]);
    const r = await runMain(keepMaxFlow(inp, []), { epochInterval: 0, recovery });
    expect(r.lastEpoch).toBeGreaterThan(1000);
    const rows = snapRows(dir);
    // Per key (5 state keys + 1 source partition) and partition: a bounded number of versions,
    // set by the merge policy, however many epochs.
    expect(rows.length).toBeLessThanOrEqual((keys.length + 1) * (MERGE_RATIO + 2) * 2);
    expect(existsSync(join(dir, 'part-0.sqlite3'))).toBe(true);
  });
});

describe('runs side by side in one process', () => {
  it('keep their stores apart, each step with its own keys, and each resumes its own state', async () => {
    // Two flows with recovery run at once, each over its own keys in epochs that change every key
    // (snapshots of all keys), with every commit on a background writer thread. A third run of
    // each, after both ended, continues from its own state.
    const sumFlow = (name: string, inp: unknown[], out: unknown[]) => {
      const flow = new Dataflow(name);
      flow.pipe(
        op.input('inp', new TestingSource<any>(inp, 300)),
        op.statefulMap('sum', (s: number | undefined, [, v]: [string, number]) => [(s ?? 0) + v, (s ?? 0) + v]),
        op.output('out', new TestingSink(out)),
      );
      return flow;
    };
    const inputOf = (prefix: string, n: number) => {
      const inp: unknown[] = [];
      for (let round = 0; round < 4; round++) for (let i = 0; i < 300; i++) inp.push([`${prefix}${i}`, [`${prefix}${i}`, round * n + i]]);
      inp.push(TestingSource.EOF());
      return inp;
    };
    const runs = [
      { name: 'left', inp: inputOf('l-', 1000), dir: tempDir() },
      { name: 'right', inp: inputOf('р-', 7), dir: tempDir() },
    ];
    for (const r of runs) initDbDir(r.dir, 1);
    const recoveryOf = (dir: string) => new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const outs = runs.map(() => [] as unknown[]);
    await Promise.all(runs.map((r, i) => runMain(sumFlow(r.name, r.inp, outs[i]!), { epochInterval: 0, recovery: recoveryOf(r.dir) })));
    const finals = runs.map((r, i) => {
      const last = new Map<string, number>();
      for (const [k, v] of outs[i] as [string, number][]) last.set(k, v);
      return last;
    });
    runs.forEach((r, i) => {
      expect(finals[i]!.size).toBe(300);
      const n = r.name === 'left' ? 1000 : 7;
      expect(finals[i]!.get(`${r.name === 'left' ? 'l-' : 'р-'}5`)).toBe(4 * 5 + n * (0 + 1 + 2 + 3));
    });
    // Continue each after its EOF: one more item per run.
    runs[0]!.inp.push(['l-5', ['l-5', 1]], TestingSource.EOF());
    runs[1]!.inp.push(['р-5', ['р-5', 1]], TestingSource.EOF());
    const again = runs.map(() => [] as unknown[]);
    await Promise.all(runs.map((r, i) => runMain(sumFlow(r.name, r.inp, again[i]!), { epochInterval: 0, recovery: recoveryOf(r.dir) })));
    expect(again).toEqual([[['l-5', finals[0]!.get('l-5')! + 1]], [['р-5', finals[1]!.get('р-5')! + 1]]]);
  });
});
