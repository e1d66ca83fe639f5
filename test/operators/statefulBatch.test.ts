import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import type { StatefulBatchLogic } from 'weir/operators';
import { RecoveryConfig, RecoveryStore, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';
import { decode, partFiles, withDb } from '../recovery/support.js';
import { keysOf, readSegment } from '../../src/recovery/segment.js';

type KV = [string, unknown];
type Builder = (resume: any) => StatefulBatchLogic<any, any, any>;

/** A clock that follows real time plus a skew the flow advances with `{ advance: ms }` items. */
function skewClock() {
  let skew = 0;
  return {
    now: () => Date.now() + skew,
    advance(ms: number) {
      skew += ms;
    },
  };
}
const HOUR = 3_600_000;

function flowWith(items: unknown[], builder: Builder, out: unknown[], opts: { batchSize?: number; clock?: ReturnType<typeof skewClock> } = {}) {
  const flow = new Dataflow('f');
  flow.pipe(
    op.input('inp', new TestingSource<any>(items, opts.batchSize ?? 1)),
    op.filterMap('clock', (x: KV | { advance: number }) => {
      if (Array.isArray(x)) return x;
      opts.clock?.advance(x.advance);
      return undefined;
    }),
    op.statefulBatch('s', builder),
    op.output('out', new TestingSink(out)),
  );
  return flow;
}

/**
 * A running sum per key, from its stored state after a resume; `snapshot` turns the sum into what
 * the key stores (by default the sum itself).
 */
function runningSum(snapshot: (sum: number) => unknown = (sum) => sum): Builder {
  return (resume: number | undefined) => {
    let sum = resume ?? 0;
    return {
      onBatch(values: number[], emit) {
        for (const v of values) sum += v;
        emit(sum);
        return 'retain';
      },
      snapshot: () => snapshot(sum),
    };
  };
}

async function stepError(p: Promise<unknown>): Promise<StepError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepError);
  return err as StepError;
}

describe('statefulBatch: onBatch', () => {
  it('groups each batch per key, keeping the order of values and of first appearance', async () => {
    const calls: unknown[][] = [];
    const out: unknown[] = [];
    const flow = flowWith(
      [['b', 1], ['a', 2], ['b', 3], ['c', 4], ['a', 5], ['b', 6], ['a', 7]],
      () => ({
        onBatch(values: number[], emit) {
          calls.push([...values]);
          emit(values.reduce((s, v) => s + v, 0));
          return 'retain';
        },
        snapshot: () => null,
      }),
      out,
      { batchSize: 6 },
    );
    await runMain(flow);
    expect(calls).toEqual([[1, 3, 6], [2, 5], [4], [7]]);
    expect(out).toEqual([['b', 10], ['a', 7], ['c', 4], ['a', 7]]);
  });

  it('one logic per key, built once with undefined; retain keeps it, discard rebuilds it', async () => {
    const built: unknown[] = [];
    const out: unknown[] = [];
    const builder: Builder = (resume) => {
      built.push(resume);
      let n = 0;
      return {
        onBatch(values: string[], emit) {
          for (const v of values) {
            n++;
            emit(`${v}#${n}`);
          }
          return values.includes('stop') ? 'discard' : 'retain';
        },
        snapshot: () => n,
      };
    };
    await runMain(flowWith([['a', 'x'], ['b', 'x'], ['a', 'y'], ['a', 'stop'], ['a', 'z']], builder, out));
    expect(out).toEqual([['a', 'x#1'], ['b', 'x#1'], ['a', 'y#2'], ['a', 'stop#3'], ['a', 'z#1']]);
    expect(built).toEqual([undefined, undefined, undefined]);
  });

  it('onEof is called once for every live key, not for discarded ones', async () => {
    const out: unknown[] = [];
    const builder: Builder = () => {
      const seen: string[] = [];
      return {
        onBatch(values: string[]) {
          seen.push(...values);
          return values.includes('drop') ? 'discard' : 'retain';
        },
        onEof(emit) {
          emit(seen.join(','));
          return 'discard';
        },
        snapshot: () => seen,
      };
    };
    await runMain(flowWith([['a', '1'], ['b', '2'], ['a', '3'], ['c', 'drop']], builder, out));
    expect(out).toEqual([['a', '1,3'], ['b', '2']]);
  });
});

describe('statefulBatch: timers', () => {
  /** A logic that asks to be notified `after` ms after its first value. */
  function timerLogic(clock: ReturnType<typeof skewClock>, after: number | undefined): Builder {
    return () => {
      let due: number | undefined;
      return {
        onBatch() {
          if (after !== undefined) due ??= clock.now() + after;
          return 'retain';
        },
        onNotify(emit) {
          emit('notify');
          return 'discard';
        },
        onEof(emit) {
          emit('eof');
          return 'discard';
        },
        notifyAt: () => due,
        snapshot: () => due,
      };
    };
  }

  it('onNotify fires once the injected clock passes notifyAt, per key; onEof gets the rest', async () => {
    const clock = skewClock();
    const out: unknown[] = [];
    const items = [
      ['a', 1],
      { advance: 0.5 * HOUR },
      ['b', 1],
      { advance: 0.75 * HOUR }, // a is due (at 1h)
      ['c', 1],
      { advance: 0.5 * HOUR }, // b is due (at 1.5h); c is not (at 2.25h)
      ['d', 1],
    ];
    await runMain(flowWith(items, timerLogic(clock, HOUR), out, { clock }), { now: clock.now });
    expect(out).toEqual([['a', 'notify'], ['b', 'notify'], ['c', 'eof'], ['d', 'eof']]);
  });

  it('notifyAt() of undefined never fires', async () => {
    const clock = skewClock();
    const out: unknown[] = [];
    await runMain(flowWith([['a', 1], { advance: 100 * HOUR }, ['b', 1]], timerLogic(clock, undefined), out, { clock }), {
      now: clock.now,
    });
    expect(out).toEqual([['a', 'eof'], ['b', 'eof']]);
  });

  it('a timer is re-armed after a resume from its snapshot', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const clock = skewClock();
    const builder: Builder = (resume: number | undefined) => {
      let due = resume;
      return {
        onBatch() {
          due ??= clock.now() + HOUR;
          return 'retain';
        },
        onNotify(emit) {
          emit('notify');
          return 'discard';
        },
        notifyAt: () => due,
        snapshot: () => due,
      };
    };
    const items: unknown[] = [['a', 1], TestingSource.ABORT(), ['z', 1]];
    const out1: unknown[] = [];
    const r1 = await runMain(flowWith(items, builder, out1, { clock }), { now: clock.now, recovery, epochInterval: 0 });
    expect(r1.reason).toBe('aborted');
    expect(out1).toEqual([]);
    clock.advance(2 * HOUR);
    const out2: unknown[] = [];
    await runMain(flowWith(items, builder, out2, { clock }), { now: clock.now, recovery, epochInterval: 0 });
    expect(out2).toEqual([['a', 'notify']]);
  });
});

describe('statefulBatch: snapshots and resume', () => {
  it('snapshots only the keys touched in each epoch, when the epoch closes', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const log: string[] = [];
    const flow = new Dataflow('f');
    // Each value repeats its key, so that the logic can name it in the log.
    type Item = [string, [string, number]];
    flow.pipe(
      op.input('inp', new TestingSource<Item>([['a', ['a', 1]], ['b', ['b', 2]], ['a', ['a', 3]]])),
      op.inspectDebug('log', (_s: string, x: Item, epoch: number) => void log.push(`${x[0]}@${epoch}`)),
      op.statefulBatch('s', (): StatefulBatchLogic<[string, number], never, number> => {
        let sum = 0;
        let key = '';
        return {
          onBatch(values) {
            for (const [k, v] of values) {
              key = k;
              sum += v;
            }
            return 'retain';
          },
          snapshot: () => {
            log.push(`snap ${key}=${sum}`);
            return sum;
          },
        };
      }),
      op.output('out', new TestingSink<unknown>([])),
    );
    await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(dir) });
    expect(log).toEqual(['a@1', 'snap a=1', 'b@2', 'snap b=2', 'a@3', 'snap a=4']);
  });

  it("marks an epoch's snapshots as the step's full state only when every key it holds changed", async () => {
    const fullByEpoch = (dir: string, stepId: string) =>
      withDb(partFiles(dir)[0]!, (db) =>
        Object.fromEntries(db.prepare('SELECT snap_epoch, full FROM snaps WHERE step_id = ? ORDER BY snap_epoch').raw().all(stepId) as [number, number][]),
      );
    const sum = (acc: number | undefined, x: number): [number, number] => [(acc ?? 0) + x, (acc ?? 0) + x];
    const build = (items: unknown[]) => {
      const flow = new Dataflow('f');
      flow.pipe(op.input('inp', new TestingSource<any>(items, 2)), op.statefulMap('s', sum), op.output('out', new TestingSink<unknown>([])));
      return flow;
    };
    const dir = tempDir();
    initDbDir(dir, 1);
    // A backup interval keeps every segment (no GC), so that each epoch's can be looked at.
    const recovery = new RecoveryConfig(dir, { backupInterval: 60_000 });
    // One epoch per batch of 2: both keys, then only a, then both.
    const items: unknown[] = [['a', 1], ['b', 1], ['a', 2], ['a', 3], ['b', 2], ['a', 4], TestingSource.EOF()];
    await runMain(build(items), { epochInterval: 0, recovery });
    expect(fullByEpoch(dir, 'f.s')).toEqual({ 1: 1, 2: 0, 3: 1 });
    // Resumed lazily: while b has not come back, a's changes are not the whole state.
    items.push(['a', 5], ['a', 6], ['b', 3], ['a', 7], TestingSource.EOF());
    const out: unknown[] = [];
    const flow = new Dataflow('f');
    flow.pipe(op.input('inp', new TestingSource<any>(items, 2)), op.statefulMap('s', sum), op.output('out', new TestingSink<unknown>(out)));
    await runMain(flow, { epochInterval: 0, recovery });
    expect(out).toEqual([['a', 15], ['a', 21], ['b', 6], ['a', 28]]);
    // The second run's two epochs with changes: only a (b not yet resumed), then both.
    expect(Object.values(fullByEpoch(dir, 'f.s')).slice(3)).toEqual([0, 1]);
    // Loading stops going back at the last full snapshot, which holds both keys.
    const again = RecoveryStore.open(dir);
    expect(decode(again.loadSnapshots())['f.s']).toEqual({ a: 28, b: 6 });
    again.close();
  });

  it('with more changed keys than it lists, snapshots each of them and every tombstone, and resumes them', async () => {
    // 3000 keys, then 2000 of them again, every third one discarded, in epochs of 500 items: more
    // changed keys than the step lists, so it finds them by a pass over all its keys.
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    const items: unknown[] = keys.map((k, i) => [k, i]);
    for (let i = 0; i < 2000; i++) items.push([keys[i]!, i % 3 === 0 ? -1 : 1]);
    items.push(TestingSource.EOF());
    const builder: Builder = (resume: number | undefined) => {
      let sum = resume ?? 0;
      return {
        onBatch(values: number[], emit) {
          for (const v of values) sum = v < 0 ? 0 : sum + v;
          emit(sum);
          return values.includes(-1) ? 'discard' : 'retain';
        },
        snapshot: () => sum,
      };
    };
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    await runMain(flowWith(items, builder, [], { batchSize: 500 }), { recovery, epochInterval: 0 });
    const expected: Record<string, number> = {};
    keys.forEach((k, i) => {
      if (i >= 2000) expected[k] = i;
      else if (i % 3 !== 0) expected[k] = i + 1;
    });
    const store = RecoveryStore.open(dir);
    expect(decode(store.loadSnapshots())['f.s']).toEqual(expected);
    store.close();
    // The next run resumes each key's state, and a discarded key starts afresh.
    items.push(['k1', 10], ['k3', 10], ['k2999', 1], TestingSource.EOF());
    const out: unknown[] = [];
    await runMain(flowWith(items, builder, out, { batchSize: 500 }), { recovery, epochInterval: 0 });
    expect(out).toEqual([['k1', 12], ['k3', 10], ['k2999', 3000]]);
  });

  it('snapshots every key of epochs that change them all, reusing the packed keys while the keys stay the same', async () => {
    // Epochs of 401 items over 400 keys or more: each changes every key the step holds (a full
    // snapshot of more keys than it lists). Epoch 2 has the keys of epoch 1; epoch 3 adds one;
    // epoch 4 has the keys of 3 and discards one; epoch 5 brings that one back.
    const k = (i: number) => `k${i}`;
    const epoch = (e: number, keys: number[], extra: [string, number]) => [...keys.map((i): [string, number] => [k(i), e * 1000 + i]), extra];
    const first = Array.from({ length: 400 }, (_, i) => i);
    const withNew = [...first, 400];
    const items: unknown[] = [
      ...epoch(1, first, [k(0), 1000]),
      ...epoch(2, first, [k(0), 2000]),
      TestingSource.ABORT(),
      ...epoch(3, first, [k(400), 3400]),
      ...epoch(4, withNew.filter((i) => i !== 7), [k(7), -1]),
      TestingSource.ABORT(),
      ...epoch(5, withNew.filter((i) => i !== 0), [k(0), 5000]),
      TestingSource.EOF(),
    ];
    const build = () => {
      const flow = new Dataflow('f');
      flow.pipe(
        op.input('inp', new TestingSource<any>(items, 401)),
        op.statefulMap('s', (_s: number | undefined, x: number): [number | undefined, number] => [x < 0 ? undefined : x, x]),
        op.output('out', new TestingSink<unknown>([])),
      );
      return flow;
    };
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const stored = () => {
      const store = RecoveryStore.open(dir);
      try {
        return decode(store.loadSnapshots())['f.s'];
      } finally {
        store.close();
      }
    };
    const expected = (e: number, keys: number[]) => Object.fromEntries(keys.map((i) => [k(i), e * 1000 + i]));
    await runMain(build(), { epochInterval: 0, recovery });
    expect(stored()).toEqual(expected(2, first));
    await runMain(build(), { epochInterval: 0, recovery });
    expect(stored()).toEqual(expected(4, withNew.filter((i) => i !== 7)));
    await runMain(build(), { epochInterval: 0, recovery });
    // k7 came back as a new key.
    expect(stored()).toEqual(expected(5, withNew));
  });

  it('writes the keys of a snapshot of all keys as they came in, UTF-8 included', async () => {
    // Epochs of 400 items (one batch each) over keys in ASCII, Cyrillic, and with an emoji outside
    // the BMP. Epoch 1 brings 300 keys: a snapshot of all keys, which takes them from the step's
    // log of keys as they were added. Epoch 2 changes them all and adds 100: all keys again, from
    // the log. Epoch 3 changes all 400 and discards one: the packer's keys of epoch 2. Epoch 4
    // changes all that are left: the log no longer matches the map, so the keys come from the map.
    const k = (i: number) => (i % 3 === 0 ? `k${i}` : i % 3 === 1 ? `ключ-${i}` : `🔑${i}é`);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const items: unknown[] = [
      ...[...range(300), ...range(100)].map((i) => [k(i), 1]),
      ...range(400).map((i) => [k(i), 10]),
      ...range(400).map((i) => [k(i), i === 5 ? -1 : 100]),
      ...[...range(400).filter((i) => i !== 5), 0].map((i) => [k(i), 1000]),
      TestingSource.EOF(),
    ];
    const want = new Map<string, number>();
    for (const x of items) {
      if (!Array.isArray(x)) continue;
      const [key, v] = x as [string, number];
      if (v < 0) want.delete(key);
      else want.set(key, (want.get(key) ?? 0) + v);
    }
    const sum = (s: number | undefined, x: number): [number | undefined, number] => (x < 0 ? [undefined, 0] : [(s ?? 0) + x, (s ?? 0) + x]);
    const build = (out: unknown[]) => {
      const flow = new Dataflow('f');
      flow.pipe(op.input('inp', new TestingSource<any>(items, 400)), op.statefulMap('s', sum), op.output('out', new TestingSink<unknown>(out)));
      return flow;
    };
    const dir = tempDir();
    initDbDir(dir, 1);
    // A backup interval keeps every epoch's segment, to look at each.
    const recovery = new RecoveryConfig(dir, { backupInterval: 60_000 });
    await runMain(build([]), { epochInterval: 0, recovery });
    // Each epoch's segment, read back on its own: its keys, in order, and whether it is full.
    const segments = withDb(partFiles(dir)[0]!, (db) =>
      (
        db
          .prepare("SELECT snap_epoch, full, key_lens, state_keys, ser_lens, ser_changes FROM snaps WHERE step_id = 'f.s' ORDER BY snap_epoch")
          .raw()
          .all() as [number, number, Uint8Array, Uint8Array, Uint8Array, Uint8Array][]
      ).map(([epoch, full, keyLens, keys, lens, bytes]) => [epoch, full, keysOf(readSegment('f.s', full === 1, keyLens, keys, lens, bytes))]),
    );
    const keysIn = (ids: number[]) => ids.map(k);
    expect(segments).toEqual([
      [1, 1, keysIn(range(300))],
      [2, 1, keysIn(range(400))],
      [3, 1, keysIn(range(400))],
      [4, 1, keysIn(range(400).filter((i) => i !== 5))],
    ]);
    const store = RecoveryStore.open(dir);
    expect(decode(store.loadSnapshots())['f.s']).toEqual(Object.fromEntries(want));
    store.close();
    // A resumed run carries on from each key's state.
    items.push([k(1), 1], [k(5), 1], [k(399), 1], TestingSource.EOF());
    const out: unknown[] = [];
    await runMain(build(out), { epochInterval: 0, recovery });
    expect(out).toEqual([
      [k(1), want.get(k(1))! + 1],
      [k(5), 1],
      [k(399), want.get(k(399))! + 1],
    ]);
  });

  it('holds none of its keys once the run is over: their states can be collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const states: WeakRef<object>[] = [];
    const build = () => {
      const flow = new Dataflow('f');
      flow.pipe(
        op.input('inp', new TestingSource<[string, number]>([['a', 1], ['b', 2], ['a', 3]])),
        op.statefulMap('s', (acc: { n: number } | undefined, x: number) => {
          const next = { n: (acc?.n ?? 0) + x };
          states.push(new WeakRef(next));
          return [next, next.n];
        }),
        op.output('out', new TestingSink<unknown>([])),
      );
      return flow;
    };
    const dir = tempDir();
    initDbDir(dir, 1);
    for (const recovery of [undefined, new RecoveryConfig(dir)]) {
      states.length = 0;
      await runMain(build(), { epochInterval: 0, recovery });
      await new Promise((resolve) => setTimeout(resolve, 0));
      gc();
      expect(states.length).toBe(3);
      expect(states.filter((s) => s.deref() !== undefined)).toEqual([]);
    }
  });

  it('the builder gets the stored state after a resume; a discarded key starts afresh', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const built: unknown[] = [];
    const builder: Builder = (resume: number[] | undefined) => {
      built.push(resume);
      const seen = resume ? [...resume] : [];
      return {
        onBatch(values: number[], emit) {
          seen.push(...values);
          emit([...seen]);
          return values.includes(0) ? 'discard' : 'retain';
        },
        snapshot: () => seen,
      };
    };
    const items: unknown[] = [['a', 1], ['b', 5], ['b', 0], TestingSource.ABORT(), ['a', 2], ['b', 6]];
    const out1: unknown[] = [];
    await runMain(flowWith(items, builder, out1), { recovery, epochInterval: 0 });
    expect(out1).toEqual([['a', [1]], ['b', [5]], ['b', [5, 0]]]);
    built.length = 0;
    const out2: unknown[] = [];
    await runMain(flowWith(items, builder, out2), { recovery, epochInterval: 0 });
    expect(out2).toEqual([['a', [1, 2]], ['b', [6]]]);
    expect(built).toEqual([[1], undefined]);
  });

  it('unserializable state fails naming step and key, and the next run resumes from the last commit', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const builder: Builder = (resume: number | undefined) => {
      let sum = resume ?? 0;
      let bad = false;
      return {
        onBatch(values: (number | 'fn')[], emit) {
          for (const v of values) {
            if (v === 'fn') bad = true;
            else sum += v;
          }
          emit(sum);
          return 'retain';
        },
        snapshot: () => (bad ? { sum, fn: () => sum } : sum),
      };
    };
    const items: unknown[] = [['k', 1], ['k', 2], ['k', 'fn'], ['k', 4]];
    const out1: unknown[] = [];
    const err = await stepError(runMain(flowWith(items, builder, out1), { recovery, epochInterval: 0 }));
    expect(err.stepId).toBe('f.s');
    expect(err.key).toBe('k');
    expect(err.message).toMatch(/^step 'f\.s', key "k": state cannot be serialized/);
    expect(out1).toEqual([['k', 1], ['k', 3], ['k', 3]]);
    // Epochs 1 and 2 committed; the failing epoch 3 did not. Replace the bad item and run again.
    items[2] = ['k', 10];
    const out2: unknown[] = [];
    const r2 = await runMain(flowWith(items, builder, out2), { recovery, epochInterval: 0 });
    expect(r2.firstEpoch).toBe(3);
    expect(out2).toEqual([['k', 13], ['k', 17]]);
  });

  it('a serde that returns no bytes fails naming step and key, and stores nothing of that epoch', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const serde = {
      serialize: (v: unknown) => (v === 3 ? ('three' as unknown as Uint8Array) : new TextEncoder().encode(JSON.stringify(v))),
      deserialize: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown,
    };
    const recovery = new RecoveryConfig(dir, { serde });
    const builder = runningSum();
    const err = await stepError(runMain(flowWith([['k', 1], ['k', 2]], builder, []), { recovery, epochInterval: 0 }));
    expect(err.stepId).toBe('f.s');
    expect(err.key).toBe('k');
    expect(err.message).toMatch(/state cannot be serialized \(number 3\): serialize\(\) must return a Uint8Array, got string/);
    // Epoch 1 (sum 1) committed; the next run resumes from it and replays the second item.
    const out: unknown[] = [];
    const r = await runMain(flowWith([['k', 1], ['k', 5]], builder, out), { recovery, epochInterval: 0 });
    expect(r.firstEpoch).toBe(2);
    expect(out).toEqual([['k', 6]]);
  });

  it('a throwing snapshot() fails naming step and key, whether every key changed or some, and stores nothing of that epoch', async () => {
    const builder = runningSum((sum) => {
      if (sum > 100) throw new Error(`too big: ${sum}`);
      // A state the serde cannot write.
      return sum === 42 ? { sum, fn: () => sum } : sum;
    });
    const fresh = () => {
      const dir = tempDir();
      initDbDir(dir, 1);
      return dir;
    };
    const stored = (dir: string) => {
      const store = RecoveryStore.open(dir);
      try {
        return decode(store.loadSnapshots())['f.s'];
      } finally {
        store.close();
      }
    };
    const run = (dir: string, items: unknown[]) =>
      runMain(flowWith(items, builder, [], { batchSize: 300 }), { recovery: new RecoveryConfig(dir), epochInterval: 0 });
    // Epochs of 300 items over 300 keys, more than the step lists: epoch 1 sets every key to 1, and
    // epoch 2 changes every key again, k150 too much. Its snapshot of every key (in a run that
    // resumed no key, with the keys from the step's key log) fails.
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const ones = Object.fromEntries(keys.map((k) => [k, 1]));
    const epoch1 = keys.map((k) => [k, 1]);
    const dir = fresh();
    const err = await stepError(run(dir, [...epoch1, ...keys.map((k) => [k, k === 'k150' ? 200 : 0])]));
    expect(err.stepId).toBe('f.s');
    expect(err.key).toBe('k150');
    expect(err.message).toBe(`step 'f.s', key "k150": snapshot threw: too big: 201`);
    expect(stored(dir)).toEqual(ones);
    // Again from epoch 2, now changing only k7 in it, then k150 too much in epoch 3 (a snapshot of the
    // keys that changed).
    const onlyK7 = keys.map(() => ['k7', 0]);
    const err2 = await stepError(run(dir, [...epoch1, ...onlyK7, ['k150', 300], ...onlyK7.slice(1)]));
    expect(err2.key).toBe('k150');
    expect(err2.message).toBe(`step 'f.s', key "k150": snapshot threw: too big: 301`);
    // Epochs 1 and 2 committed, not 3.
    expect(stored(dir)).toEqual(ones);
    expect((await run(dir, [...epoch1, ...onlyK7, TestingSource.EOF()])).firstEpoch).toBe(3);
    // As the first, with a state of k200 that cannot be serialized.
    const dir2 = fresh();
    const err3 = await stepError(run(dir2, [...epoch1, ...keys.map((k) => [k, k === 'k200' ? 41 : 0])]));
    expect(err3.key).toBe('k200');
    expect(err3.message).toMatch(/^step 'f\.s', key "k200": state cannot be serialized \(an object\): .* could not be cloned\. Keep state/);
    expect(stored(dir2)).toEqual(ones);
  });

  it('a serde that throws something else than an Error fails naming step, key and what it threw', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const serde = {
      serialize: (v: unknown) => {
        if (v === 3) throw 'three is not allowed';
        return new TextEncoder().encode(JSON.stringify(v));
      },
      deserialize: (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as unknown,
    };
    const err = await stepError(runMain(flowWith([['k', 1], ['k', 2]], runningSum(), []), { recovery: new RecoveryConfig(dir, { serde }), epochInterval: 0 }));
    expect(err.key).toBe('k');
    expect(err.message).toBe(
      `step 'f.s', key "k": state cannot be serialized (number 3): three is not allowed. ` +
        'Keep state to plain data (objects, arrays, Map, Set, Date, BigInt, typed arrays) or give RecoveryConfig a serde.',
    );
  });

  it('without recovery, unserializable state is fine', async () => {
    const out: unknown[] = [];
    await runMain(
      flowWith([['k', 1]], () => ({ onBatch: () => 'retain', snapshot: () => () => 1 }), out),
      { epochInterval: 0 },
    );
    expect(out).toEqual([]);
  });
});

describe('statefulBatch: contract errors', () => {
  const run = (builder: Builder, items: unknown[] = [['k', 1]]) => stepError(runMain(flowWith(items, builder, [])));

  it.each([
    ['undefined', undefined],
    ['an object without onBatch', { snapshot: () => 1 }],
    ['an object without snapshot', { onBatch: () => 'retain' }],
    ['a function', () => 'retain'],
  ])('a builder returning %s is a clear error naming step and key', async (_what, logic) => {
    const err = await run(() => logic as never);
    expect(err.message).toBe(`step 'f.s', key "k": the builder must return a logic object with onBatch() and snapshot()`);
  });

  it('a throwing builder names step and key', async () => {
    const err = await run(() => {
      throw new Error('no logic');
    });
    expect(err.message).toMatch(/^step 'f\.s', key "k": the builder threw: no logic/);
  });

  it('onBatch returning something else than retain/discard names step and key', async () => {
    const err = await run(() => ({ onBatch: () => 'keep' as never, snapshot: () => 0 }));
    expect(err.message).toBe(`step 'f.s', key "k": onBatch must return 'retain' or 'discard', got "keep"`);
  });

  it('onNotify returning something else names step and key', async () => {
    const err = await run(() => ({
      onBatch: () => 'retain',
      notifyAt: () => 0, // due at once
      onNotify: () => true as never,
      snapshot: () => 0,
    }));
    expect(err.message).toBe(`step 'f.s', key "k": onNotify must return 'retain' or 'discard', got true`);
  });

  it('onEof returning something else names step and key', async () => {
    const err = await run(() => ({ onBatch: () => 'retain', onEof: () => undefined as never, snapshot: () => 0 }));
    expect(err.message).toMatch(/^step 'f\.s', key "k": onEof must return 'retain' or 'discard', got/);
  });

  it.each(['onBatch', 'onNotify', 'onEof', 'notifyAt'] as const)('a throwing %s names step and key', async (hook) => {
    const logic: Record<string, unknown> = { onBatch: () => 'retain', snapshot: () => 0 };
    if (hook === 'onNotify') logic.notifyAt = () => 0;
    logic[hook] = () => {
      throw new Error(`${hook} broke`);
    };
    const err = await run(() => logic as never);
    expect(err.key).toBe('k');
    expect(err.message).toMatch(new RegExp(`^step 'f\\.s', key "k": ${hook} threw: ${hook} broke`));
  });

  it('an unkeyed item is an error naming the step', async () => {
    const err = await run(() => ({ onBatch: () => 'retain', snapshot: () => 0 }), [[42, 'v']]);
    expect(err.stepId).toBe('f.s');
    expect(err.message).toMatch(/\[key, value\] pair with a string key.*whose key is number 42/);
  });
});
