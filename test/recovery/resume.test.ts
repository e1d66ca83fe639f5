import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain, StepError } from 'weir';
import * as op from 'weir/operators';
import { initDbDir, RecoveryConfig, RecoveryError, RecoveryStore, v8Serde, type Serde } from 'weir/recovery';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';
import { copyPartition, decode, overwriteState, partFiles, rec, tempDir, withDb } from './support.js';

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

  for (const later of [false, true]) {
    it(`resumes consistently after a crash between partition commits${later ? ', the execution begun with the first commit' : ''}`, () => {
      const begin = (store: RecoveryStore) => (later ? store.beginExecutionLater() : store.beginExecution());
      const { dir, store } = freshStore(3);
      const ks = keys(30);
      for (let e = 1; e <= 4; e++) store.commitEpoch(e, ks.map((k, i) => rec('s', k, e * 100 + i)), e);
      store.close();
      const before = tempDir();
      for (let i = 0; i < 3; i++) copyPartition(join(dir, `part-${i}.sqlite3`), join(before, `part-${i}.sqlite3`));

      // Epoch 5 reaches every partition, but the process dies before GC...
      const run2 = RecoveryStore.open(dir);
      begin(run2);
      run2.commitEpoch(5, ks.map((k, i) => rec('s', k, 500 + i)), 0);
      run2.close();
      // ...and, as if it died mid-commit, partitions 1 and 2 never saw epoch 5, nor the execution that wrote it.
      for (const i of [1, 2]) copyPartition(join(before, `part-${i}.sqlite3`), join(dir, `part-${i}.sqlite3`));
      withDb(join(dir, 'part-1.sqlite3'), (db) => expect(db.prepare('SELECT MAX(ex_num) FROM exs').pluck().get()).toBe(1));

      const run3 = RecoveryStore.open(dir);
      expect(run3.resumeEpoch).toBe(5);
      const epoch4 = Object.fromEntries(ks.map((k, i) => [k, 400 + i]));
      expect(decode(run3.loadSnapshots())).toEqual({ s: epoch4 });
      expect(begin(run3)).toBe(3);
      // The snapshots past the resume epoch go with the execution's start: at once, or with the first commit.
      withDb(join(dir, 'part-0.sqlite3'), (db) =>
        expect(db.prepare('SELECT COUNT(*) FROM snaps WHERE snap_epoch >= 5').pluck().get()).toBe(later ? 1 : 0),
      );
      run3.commitEpoch(5, ks.map((k, i) => rec('s', k, 5000 + i)), 5);
      run3.close();

      const run4 = RecoveryStore.open(dir);
      expect(run4.resumeEpoch).toBe(6);
      expect(decode(run4.loadSnapshots())).toEqual({ s: Object.fromEntries(ks.map((k, i) => [k, 5000 + i])) });
      run4.close();
    });
  }

  it('begun later, records the execution with each partition\'s first commit, in its transaction', () => {
    const { dir, store } = freshStore(2, 2);
    for (let e = 1; e <= 3; e++) store.commitEpoch(e, [rec('s', 'a', e)], 0, 0);
    store.commitEpoch(1, [rec('s', 'b', 1)], 0, 1);
    store.close();
    const exs = () => partFiles(dir).map((f) => withDb(f, (db) => db.prepare('SELECT ex_num FROM exs ORDER BY ex_num').pluck().all()));
    const later = () =>
      partFiles(dir).reduce((n, f) => n + withDb(f, (db) => db.prepare('SELECT COUNT(*) FROM snaps WHERE snap_epoch >= 2').pluck().get() as number), 0);

    // A run that stops before its first commit leaves the store exactly as it was.
    const idle = RecoveryStore.open(dir, { workerCount: 2 });
    expect(idle.resumeEpoch).toBe(2);
    expect(idle.beginExecutionLater()).toBe(2);
    expect(exs()).toEqual([[1], [1]]);
    expect(later()).toBe(2);
    idle.close();
    expect(exs()).toEqual([[1], [1]]);

    // The next takes the same execution number; its first commit records it and drops what is past the resume epoch.
    const run = RecoveryStore.open(dir, { workerCount: 2 });
    expect(run.beginExecutionLater()).toBe(2);
    run.commitEpoch(2, [rec('s', 'a', 20)], 0, 0);
    expect(exs()).toEqual([[1, 2], [1, 2]]);
    expect(later()).toBe(1);
    for (const f of partFiles(dir)) {
      withDb(f, (db) => expect(db.prepare('SELECT worker_index, worker_frontier FROM fronts WHERE ex_num = 2 ORDER BY worker_index').raw().all()).toEqual([[0, 3], [1, 2]]));
    }
    // Handed to another connection before the workers' first commits: that one records nothing twice.
    const taker = RecoveryStore.adopt(run.handOff());
    taker.commitEpoch(2, [rec('s', 'b', 20)], 0, 1);
    taker.close();
    run.close();
    expect(exs()).toEqual([[1, 2], [1, 2]]);
    const again = RecoveryStore.open(dir, { workerCount: 2 });
    expect(again.resumeEpoch).toBe(3);
    expect(decode(again.loadSnapshots())).toEqual({ s: { a: 20, b: 20 } });
    again.close();
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

describe('loaded snapshots', () => {
  it('behave as a Map of state key to bytes', () => {
    const { dir, store } = freshStore(2);
    const empty = { stepId: 'u', stateKey: 'e', ser: new Uint8Array(0) }; // a custom serde may write no bytes
    store.commitEpoch(1, [rec('s', 'a', 1), rec('s', 'b', 'two'), rec('s', 'c', undefined), rec('t', 'x', [3]), empty], 1);
    store.close();
    const again = RecoveryStore.open(dir);
    const loaded = again.loadSnapshots();
    again.close();
    const s = loaded.get('s')!;
    expect(s).toBeInstanceOf(Map);
    expect(s.size).toBe(2);
    expect(s.has('c')).toBe(false);
    expect(v8Serde.deserialize(s.get('b')!)).toBe('two');
    expect([...s.keys()].sort()).toEqual(['a', 'b']);
    s.set('d', v8Serde.serialize(4));
    s.delete('a');
    expect(new Map([...s].map(([k, v]) => [k, v8Serde.deserialize(v)]))).toEqual(new Map<string, unknown>([['b', 'two'], ['d', 4]]));
    let n = 0;
    loaded.get('t')!.forEach((v, k) => {
      expect([k, v8Serde.deserialize(v)]).toEqual(['x', [3]]);
      n++;
    });
    expect(n).toBe(1);
    expect([...loaded.get('u')!].map(([k, v]) => [k, v.length])).toEqual([['e', 0]]);
  });

  it('reads many keys in chunks, skipping tombstones, with and without uncollected versions', () => {
    for (const lag of [0, 3]) {
      const { dir, store } = freshStore(2);
      const n = 5000;
      const want: Record<string, Record<string, unknown>> = { s1: {}, s2: {} };
      for (let e = 1; e <= 4; e++) {
        const snaps = [];
        for (let i = e % 2; i < n; i += 2) {
          const step = i % 3 === 0 ? 's1' : 's2';
          const key = `k${i}`;
          const value = i % 7 === e ? undefined : { i, e, s: 'x'.repeat(i % 50) };
          snaps.push(rec(step, key, value));
          if (value === undefined) delete want[step]![key];
          else want[step]![key] = value;
        }
        store.commitEpoch(e, snaps, e - lag);
      }
      store.close();
      const again = RecoveryStore.open(dir);
      expect(decode(again.loadSnapshots())).toEqual(want);
      again.close();
    }
  });
});

describe('resuming a flow', () => {
  const build = (inp: (number | TestingMarker)[], out: unknown[]) => {
    const flow = new Dataflow('resume');
    flow.pipe(
      op.input('inp', new TestingSource(inp)),
      op.keyOn('key', (x: number) => `k${x % 3000}`),
      op.statefulMap('sum', (sum: { n: number } | undefined, x: number) => {
        const next = { n: (sum?.n ?? 0) + x };
        return [next, next.n];
      }),
      op.output('out', new TestingSink(out)),
    );
    return flow;
  };

  for (const [name, serde] of [
    ['the default serde', undefined],
    ['a custom serde', { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(Buffer.from(b).toString()) }],
  ] as [string, Serde | undefined][]) {
    it(`restores every key with ${name}`, async () => {
      const dir = tempDir();
      initDbDir(dir, 2);
      const recovery = new RecoveryConfig(dir, serde ? { serde } : {});
      const inp: (number | TestingMarker)[] = Array.from({ length: 6000 }, (_, i) => i);
      inp.push(TestingSource.EOF(), 1, 3001);
      await runMain(build(inp, []), { epochInterval: 0, recovery });
      const out: unknown[] = [];
      await runMain(build(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([['k1', 1 + 3001 + 1], ['k1', 1 + 3001 + 1 + 3001]]);
    });
  }

  it('names the step and the key of a state it cannot decode, once the key is seen again', async () => {
    // statefulMap resumes lazily: a key's state is decoded when the key next comes in.
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const inp: (number | TestingMarker)[] = [1, 2, TestingSource.EOF(), 3, 2];
    await runMain(build(inp, []), { epochInterval: 0, recovery });
    withDb(partFiles(dir)[0]!, (db) => overwriteState(db, 'resume.sum', 'k2', Uint8Array.of(0x7e, 0x01)));
    const err = await runMain(build(inp, []), { epochInterval: 0, recovery }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).stepId).toBe('resume.sum');
    expect((err as StepError).key).toBe('k2');
    expect((err as StepError).message).toMatch(/cannot deserialize.*unknown tag 0x7e/);
  });
});
