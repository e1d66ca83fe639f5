import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import { initDbDir, RecoveryConfig, RecoveryError, RecoveryStore, v8Serde } from 'weir/recovery';
import { FixedPartitionedSink, type StatefulSinkPartition } from 'weir/outputs';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';
import { writerThreadsStarted } from '../../src/recovery/BackgroundWriter.js';
import { packSnapshots } from '../../src/recovery/packSnapshots.js';
import { SnapshotPacker } from '../../src/recovery/SnapshotPacker.js';
import { Committer } from '../../src/runtime/Committer.js';
import type { SnapshotRecord } from '../../src/recovery/store.js';
import { copyPartition, partFiles, tempDir } from './support.js';

describe('packed snapshots', () => {
  it('cross to another thread and are committed record for record', () => {
    const records: SnapshotRecord[] = [
      { stepId: 'f.a', stateKey: 'k1', ser: v8Serde.serialize(1) },
      { stepId: 'f.a', stateKey: '', ser: v8Serde.serialize('x'.repeat(100)) },
      { stepId: 'f.b', stateKey: '😀\u0000é', ser: null },
      { stepId: 'f.b', stateKey: 'k2', ser: new Uint8Array(0) },
      { stepId: 'f.a', stateKey: 'k3', ser: v8Serde.serialize(new Map([['m', 1n]])) },
      { stepId: 'f.b', stateKey: 'k4', ser: v8Serde.serialize({ big: 'y'.repeat(5000) }) },
      // Bigger than the statement buffer a partition keeps: it grows, then shrinks again.
      { stepId: 'f.a', stateKey: 'huge', ser: Buffer.alloc(3 << 20, 7) },
    ];
    const { packed, transfer } = packSnapshots(records);
    const cloned = structuredClone(packed, { transfer });
    expect(packed.bytes.byteLength).toBe(0); // transferred, not copied
    for (const backupInterval of [0, 1]) {
      // Written with collection at once (tombstones skipped) and with collection deferred (tombstones stored).
      const dir = tempDir();
      initDbDir(dir, 3);
      const store = RecoveryStore.open(dir);
      store.beginExecution();
      store.commitPacked(1, cloned, 1 - backupInterval);
      store.close();
      const again = RecoveryStore.open(dir);
      const loaded = again.loadSnapshots();
      again.close();
      const got = [...loaded].flatMap(([stepId, m]) => [...m].map(([k, b]) => [stepId, k, Buffer.from(b).toString('hex')]));
      const want = records.filter((r) => r.ser !== null).map((r) => [r.stepId, r.stateKey, Buffer.from(r.ser!).toString('hex')]);
      const order = (a: string[], b: string[]) => (a.join('|') < b.join('|') ? -1 : 1);
      expect(got.sort(order)).toEqual(want.sort(order));
    }
  });
});

describe('RecoveryStore.handOff', () => {
  it('stops the store from committing, and another connection goes on while it is still open', () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    const store = RecoveryStore.open(dir);
    store.beginExecution();
    store.commitEpoch(1, [{ stepId: 'f.s', stateKey: 'a', ser: v8Serde.serialize(1) }], 1);
    const handoff = store.handOff();
    expect(() => store.commitEpoch(2, [], 2)).toThrow(/handed its commits to another connection/);
    const taker = RecoveryStore.adopt(handoff);
    taker.commitEpoch(2, [{ stepId: 'f.s', stateKey: 'b', ser: v8Serde.serialize(2) }], 2);
    // The handed-off store closes its files without collecting; the taker goes on after that.
    store.close();
    taker.commitEpoch(3, [{ stepId: 'f.s', stateKey: 'a', ser: v8Serde.serialize(3) }], 3);
    taker.close();
    const again = RecoveryStore.open(dir);
    expect(again.resumeEpoch).toBe(4);
    const loaded = again.loadSnapshots().get('f.s')!;
    again.close();
    expect(Object.fromEntries([...loaded].map(([k, b]) => [k, v8Serde.deserialize(b)]))).toEqual({ a: 3, b: 2 });
  });
});

type Item = [string, number] | TestingMarker;

const sumFlow = (inp: Item[], out: unknown[], onValue?: (x: number) => void) => {
  const flow = new Dataflow('bg');
  flow.pipe(
    op.input('inp', new TestingSource(inp, 50)),
    op.statefulMap('sum', (sum: number | undefined, x: number) => {
      onValue?.(x);
      const next = (sum ?? 0) + x;
      return [next, next];
    }),
    op.output('out', new TestingSink(out)),
  );
  return flow;
};

/** The last value emitted per key. */
const lastPerKey = (out: unknown[]) => new Map((out as [string, number][]).map(([k, v]) => [k, v]));

describe('commits on the background writer thread', () => {
  it('keep state exactly-once through aborts, as commits on the main thread do', async () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    const recovery = new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const inp: Item[] = [];
    for (let i = 0; i < 12_000; i++) {
      inp.push([`k${i % 97}`, 1 + (i % 5)]);
      if (i === 3000 || i === 7000 || i === 7001) inp.push(TestingSource.ABORT());
    }
    inp.push(TestingSource.EOF());
    const want = new Map<string, number>();
    for (const x of inp) if (Array.isArray(x)) want.set(x[0], (want.get(x[0]) ?? 0) + x[1]);

    const out: unknown[] = [];
    const reasons: string[] = [];
    for (let run = 0; run < 10 && reasons.at(-1) !== 'eof'; run++) {
      reasons.push((await runMain(sumFlow(inp, out), { epochInterval: 0, recovery })).reason);
    }
    expect(reasons).toEqual(['aborted', 'aborted', 'aborted', 'eof']);
    expect(lastPerKey(out)).toEqual(want);

    // What the store holds is what a reader of the files sees: one latest state per key.
    const store = RecoveryStore.open(dir);
    const sums = store.loadSnapshots().get('bg.sum')!;
    store.close();
    expect(new Map([...sums].map(([k, b]) => [k, v8Serde.deserialize(b)]))).toEqual(want);
  });

  it('continue after EOF, and the next run resumes every key', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const inp: Item[] = [['a', 1], ['b', 2], TestingSource.EOF(), ['a', 10], ['c', 5], TestingSource.EOF(), ['b', 100]];
    const out: unknown[] = [];
    for (let run = 0; run < 3; run++) {
      await runMain(sumFlow(inp, out), { epochInterval: 0, recovery });
      // The run's last commit, on the writer thread, stays in the WAL, which the next run reads.
      expect(existsSync(`${partFiles(dir)[0]!}-wal`)).toBe(true);
    }
    expect(out).toEqual([['a', 1], ['b', 2], ['a', 11], ['c', 5], ['b', 102]]);
  });

  it("leave a run's last commit in the WAL, from which a copy of the partition with its -wal file resumes", async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const inp: Item[] = [['a', 1], ['b', 2], ['a', 3], TestingSource.EOF(), ['a', 10]];
    const out: unknown[] = [];
    const first = await runMain(sumFlow(inp, out), { epochInterval: 0, recovery });
    expect(first.reason).toBe('eof');
    const part = partFiles(dir)[0]!;
    expect(statSync(`${part}-wal`).size).toBeGreaterThan(0);

    // Its -wal file holds the last epoch: a copy of the partition with it resumes after the EOF.
    const copy = tempDir();
    copyPartition(part, join(copy, 'part-0.sqlite3'));
    const store = RecoveryStore.open(copy);
    const sums = store.loadSnapshots().get('bg.sum')!;
    expect(store.resumeEpoch).toBe(first.lastEpoch + 1);
    store.close();
    expect(new Map([...sums].map(([k, b]) => [k, v8Serde.deserialize(b)]))).toEqual(new Map([['a', 4], ['b', 2]]));

    // The next run reads it from there too.
    await runMain(sumFlow(inp, out), { epochInterval: 0, recovery });
    expect(out).toEqual([['a', 1], ['b', 2], ['a', 4], ['a', 14]]);
  });

  it('copy the WAL into the file at close when a run ends without a last commit', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const inp: Item[] = Array.from({ length: 2000 }, (_, i): Item => [`k${i % 10}`, i]);
    inp.splice(1500, 0, TestingSource.ABORT());
    const out: unknown[] = [];
    const r = await runMain(sumFlow(inp, out), { epochInterval: 0, recovery });
    expect(r.reason).toBe('aborted');
    // Its commits were not synced one by one: the close copied them into the file, synced it and
    // removed the WAL, as the last connection to a file does.
    expect(r.lastEpoch).toBeGreaterThanOrEqual(1);
    expect(existsSync(`${partFiles(dir)[0]!}-wal`)).toBe(false);
    const store = RecoveryStore.open(dir);
    expect(store.resumeEpoch).toBe(r.lastEpoch + 1);
    store.close();
  });

  it('report a failed commit as a RecoveryError, and the run stops', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir, { backgroundCommitFrom: 0 });
    const inp: Item[] = Array.from({ length: 2000 }, (_, i): Item => [`k${i % 10}`, i]);
    // The loop idles here, waiting on the writer, when the failed commit comes back.
    inp.splice(1001, 0, TestingSource.PAUSE(300));
    const out: unknown[] = [];
    const sabotage = (x: number) => {
      // Mid-run, another connection breaks the store under the writer thread.
      if (x !== 1000) return;
      const db = new Database(partFiles(dir)[0]!);
      db.exec('DROP TABLE snaps');
      db.close();
    };
    const err = await runMain(sumFlow(inp, out, sabotage), { epochInterval: 0, recovery }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as Error).message).toMatch(/the recovery store failed to commit epoch \d+: SqliteError: (no such table: snaps|database is locked)/);
    expect(out.length).toBeLessThan(2000 + 1);
  });
});

describe('commits on the background writer thread, with a sink that acts on them', () => {
  /** The store's frontier: one past the last committed epoch; 1 before the first commit. */
  const frontier = (dir: string) => {
    const db = new Database(partFiles(dir)[0]!, { readonly: true });
    try {
      return (db.prepare('SELECT MAX(worker_frontier) FROM fronts').pluck().get() as number | null) ?? 1;
    } finally {
      db.close();
    }
  };
  /** Runs 3,000 items into a sink that notes each epoch it is given while the store has not committed the one before. */
  const run = async (withEpochCommitted: boolean) => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const early: number[] = [];
    const committed: number[] = [];
    class Probe extends FixedPartitionedSink<unknown, number> {
      listParts() {
        return ['p'];
      }
      buildPart(_step: string, _part: string, resume: number | undefined): StatefulSinkPartition<unknown, number> {
        let n = resume ?? 0;
        const part: StatefulSinkPartition<unknown, number> = {
          writeBatch: (items, epoch) => {
            if (frontier(dir) < epoch) early.push(epoch);
            n += items.length;
          },
          snapshot: () => n,
        };
        if (withEpochCommitted) part.epochCommitted = (epoch) => void committed.push(epoch);
        return part;
      }
    }
    const flow = new Dataflow('bg');
    flow.pipe(
      op.input('inp', new TestingSource(Array.from({ length: 3000 }, (_, i) => i), 50)),
      op.keyOn('key', (x: number) => `k${x % 7}`),
      op.statefulMap('sum', (s: number | undefined, x: number) => [(s ?? 0) + x, x]),
      op.output('out', new Probe()),
    );
    await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(dir, { backgroundCommitFrom: 0 }) });
    return { early, committed };
  };

  it('give it no output of an epoch before the store has committed the epoch before', async () => {
    const { early, committed } = await run(true);
    // An exactly-once Kafka sink would commit the open transaction on such a write, before the store.
    expect(early).toEqual([]);
    expect(committed.length).toBeGreaterThan(2);
  });

  it('still overlap the next epoch for a sink that does not act on them', async () => {
    const { early } = await run(false);
    expect(early.length).toBeGreaterThan(0);
  });
});

describe('the background writer thread', () => {
  it('starts without the Node options of the process: no preload runs in it, and a process-only option does not stop it', () => {
    // The built package, whose writer thread runs from a file (a preload would run there too).
    const dir = join(tempDir(), 'db');
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', './test/fixtures/preloadProbe.mjs', 'test/fixtures/backgroundRun.mjs', dir],
      { encoding: 'utf8', timeout: 30_000 },
    );
    // The process ends on its own: the thread left waiting for another run does not hold it.
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('preload ran in the main thread\n');
    expect(JSON.parse(r.stdout)).toEqual({ out: [['a', 1], ['b', 1], ['a', 2]], keys: ['a', 'b'] });
  });

  it('serves run after run in one process: sequential runs share one thread, overlapping runs get one each', async () => {
    const stateOf = (dir: string) => {
      const store = RecoveryStore.open(dir);
      const sums = store.loadSnapshots().get('bg.sum');
      store.close();
      return new Map([...(sums ?? [])].map(([k, b]) => [k, v8Serde.deserialize(b)]));
    };
    /** Runs the sum flow over `items` into a fresh store, and returns its stored state. */
    const run = async (items: Item[]) => {
      const dir = tempDir();
      initDbDir(dir, 1);
      const out: unknown[] = [];
      await runMain(sumFlow(items, out), { epochInterval: 0, recovery: new RecoveryConfig(dir, { backgroundCommitFrom: 0 }) });
      return stateOf(dir);
    };
    const items = (key: string, n: number): Item[] => Array.from({ length: n }, (_, i): Item => [key, i]);
    const sum = (n: number) => (n * (n - 1)) / 2;

    expect(await run(items('a', 300))).toEqual(new Map([['a', sum(300)]]));
    const first = writerThreadsStarted();
    // Each run opens its own store on the thread the run before it left waiting.
    expect(await run(items('b', 200))).toEqual(new Map([['b', sum(200)]]));
    expect(await run(items('c', 100))).toEqual(new Map([['c', sum(100)]]));
    expect(writerThreadsStarted()).toBe(first);

    // Two runs at once: one takes the waiting thread, the other starts one; one is kept after.
    const both = await Promise.all([run(items('d', 500)), run(items('e', 400))]);
    expect(both).toEqual([new Map([['d', sum(500)]]), new Map([['e', sum(400)]])]);
    expect(writerThreadsStarted()).toBe(first + 1);
    expect(await run(items('f', 50))).toEqual(new Map([['f', sum(50)]]));
    expect(writerThreadsStarted()).toBe(first + 1);
  });

  it("gives each commit's buffers back to the packer, which packs the next epoch into them", async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const store = RecoveryStore.open(dir);
    store.beginExecution();
    const committer = new Committer(store, 0);
    const packer = new SnapshotPacker();
    const sizes: number[] = [];
    for (let epoch = 1; epoch <= 3; epoch++) {
      for (let i = 0; i < 20_000; i++) packer.add('f.s', `key-${i}`, epoch * i);
      const lent = packer.view().bytes.buffer;
      sizes.push(lent.byteLength);
      expect(committer.commit(epoch, packer, epoch, epoch === 3)).toBe(false);
      // Lent to the writer, which has them now: the packer has small buffers of its own meanwhile.
      expect(lent.byteLength).toBe(0);
      expect(packer.view().bytes.buffer.byteLength).toBeLessThan(sizes[0]!);
      await committer.settled(epoch === 3);
      expect(packer.view().bytes.buffer.byteLength).toBe(sizes[0]);
    }
    // Each epoch filled the buffers the one before it lent, without growing new ones.
    expect(sizes).toEqual([sizes[0], sizes[0], sizes[0]]);
    await committer.close();
    const again = RecoveryStore.open(dir);
    const states = again.loadSnapshots().get('f.s')!;
    again.close();
    expect(states.size).toBe(20_000);
    expect(v8Serde.deserialize(states.get('key-777')!)).toBe(3 * 777);
  });

  it('checkpoints after it has answered, so that its commits (the last one of a run too) only write the WAL', () => {
    /** Commits `epochs` epochs of some 2 MB each; returns the database file's size after each. */
    const commitAll = (store: RecoveryStore, dir: string, epochs: number) => {
      const sizes: number[] = [];
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const packer = new SnapshotPacker();
        for (let i = 0; i < 50_000; i++) packer.add('f.s', `key-${i}`, `state ${epoch} of ${i}`.padEnd(30));
        store.commitPacked(epoch, packer.view(), epoch);
        sizes.push(statSync(partFiles(dir)[0]!).size);
      }
      return sizes;
    };
    const open = () => {
      const dir = tempDir();
      initDbDir(dir, 1);
      const store = RecoveryStore.open(dir);
      store.beginExecution();
      return { dir, store };
    };
    // As SQLite does by default: the commit that takes the WAL past 1000 pages (32 MiB with the
    // store's 32 KiB pages) copies it into the file.
    const inline = open();
    const inlineSizes = commitAll(inline.store, inline.dir, 20);
    inline.store.close();
    expect(Math.max(...inlineSizes)).toBeGreaterThan(2 << 20);

    // As the writer thread does: the file only grows when it checkpoints.
    const deferred = open();
    deferred.store.deferCheckpoints();
    const deferredSizes = commitAll(deferred.store, deferred.dir, 3);
    expect(Math.max(...deferredSizes)).toBeLessThan(1 << 20);
    deferred.store.checkpoint();
    expect(statSync(partFiles(deferred.dir)[0]!).size).toBeGreaterThan(2 << 20);
    deferred.store.close();
    const again = RecoveryStore.open(deferred.dir);
    expect(again.loadSnapshots().get('f.s')?.size).toBe(50_000);
    again.close();
  });
});

