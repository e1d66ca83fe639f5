import { describe, expect, it } from 'vitest';
import { Dataflow, type KeyedStream, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, RecoveryStore, initDbDir, v8Serde } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';

type Step<V, W> = (up: KeyedStream<V>) => KeyedStream<W>;

function flowWith<V, W>(items: unknown[], step: Step<V, W>, out: unknown[], batchSize = 1): Dataflow {
  const flow = new Dataflow('f');
  flow.pipe(op.input('inp', new TestingSource(items, batchSize)), step as never, op.output('out', new TestingSink(out)));
  return flow;
}

async function through<V, W>(items: [string, V][], step: Step<V, W>, batchSize = 1): Promise<unknown[]> {
  const out: unknown[] = [];
  await runMain(flowWith(items, step, out, batchSize));
  return out;
}

async function stepError(items: unknown[], step: Step<any, any>): Promise<StepError> {
  const err = await runMain(flowWith(items, step, [])).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepError);
  return err as StepError;
}

const kv: [string, number][] = [['a', 1], ['b', 10], ['a', 2], ['a', 3], ['b', 20]];

describe('statefulMap', () => {
  const runningSum = op.statefulMap('sum', (s: number | undefined, v: number) => [(s ?? 0) + v, (s ?? 0) + v]);

  for (const batchSize of [1, 3, 10]) {
    it(`keeps a state per key (batch size ${batchSize})`, async () => {
      const out = await through(kv, runningSum, batchSize);
      // Within a batch the output is grouped by key; per key the order is kept.
      for (const key of ['a', 'b']) {
        expect(out.filter((x) => (x as [string])[0] === key)).toEqual(
          key === 'a' ? [['a', 1], ['a', 3], ['a', 6]] : [['b', 10], ['b', 30]],
        );
      }
    });
  }

  it('a new state of undefined drops the key, even in the middle of a batch', async () => {
    const seen: unknown[] = [];
    const step = op.statefulMap('m', (s: number | undefined, v: number) => {
      seen.push(s);
      return [v === 0 ? undefined : (s ?? 0) + v, v];
    });
    await through([['a', 1], ['a', 2], ['a', 0], ['a', 5], ['a', 0], ['a', 7]], step, 4);
    expect(seen).toEqual([undefined, 1, 3, undefined, 5, undefined]);
  });

  it('a key dropped and seen again in the same epoch, with recovery, starts afresh and is stored as it ends', async () => {
    const seen: unknown[] = [];
    const step = op.statefulMap('m', (s: number | undefined, v: number) => {
      seen.push(s);
      return [v === 0 ? undefined : (s ?? 0) + v, v];
    });
    const items = [['a', 1], ['b', 4], ['a', 2], ['a', 0], ['a', 5], ['b', 0], ['a', 0], ['a', 7]];
    for (const batchSize of [1, 3]) {
      seen.length = 0;
      const dir = tempDir();
      initDbDir(dir, 1);
      await runMain(flowWith(items, step, [], batchSize), { epochInterval: 60_000, recovery: new RecoveryConfig(dir) });
      expect(seen).toEqual([undefined, undefined, 1, 3, undefined, 4, 5, undefined]);
      const store = RecoveryStore.open(dir);
      const states = store.loadSnapshots().get('f.m')!;
      store.close();
      // 'b' was dropped: a tombstone, so no state; 'a' ends at 7, after its last drop.
      expect([...states.keys()]).toEqual(['a']);
      expect(v8Serde.deserialize(states.get('a')!)).toBe(7);
    }
  });

  it('emits the value even when it is undefined, as Bytewax emits None', async () => {
    expect(await through([['a', 1]], op.statefulMap('m', () => [1, undefined]))).toEqual([['a', undefined]]);
  });

  it.each([
    ['a number', () => 5, /got number 5/],
    ['a 1-tuple', () => [1], /got an array of length 1/],
    ['a 3-tuple', () => [1, 2, 3], /got an array of length 3/],
    ['undefined', () => undefined, /got undefined/],
  ])('a mapper returning %s is a StepError naming step and key', async (_what, mapper, detail) => {
    const err = await stepError([['k1', 1]], op.statefulMap('sm', mapper as never));
    expect(err.stepId).toBe('f.sm');
    expect(err.key).toBe('k1');
    expect(err.message).toMatch(/^step 'f\.sm', key "k1": the mapper must return a 2-element array \[newState, value\]/);
    expect(err.message).toMatch(detail);
  });

  it('a throwing mapper names step and key', async () => {
    const err = await stepError([['k1', 1]], op.statefulMap('sm', () => {
      throw new Error('bad state');
    }));
    expect(err.message).toMatch(/^step 'f\.sm', key "k1": .*bad state/);
  });

  it('resumes the state of each key after an abort', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const items: unknown[] = [['a', 1], ['b', 10], TestingSource.ABORT(), ['a', 2], ['b', 20]];
    const out1: unknown[] = [];
    await runMain(flowWith(items, runningSum, out1), { epochInterval: 0, recovery });
    expect(out1).toEqual([['a', 1], ['b', 10]]);
    const out2: unknown[] = [];
    await runMain(flowWith(items, runningSum, out2), { epochInterval: 0, recovery });
    expect(out2).toEqual([['a', 3], ['b', 30]]);
  });
});

describe('statefulFlatMap', () => {
  it('emits zero or more values per value, from arrays and iterables', async () => {
    const dedupe = op.statefulFlatMap('dedupe', (seen: string[] | undefined, v: string) => {
      const s = seen ?? [];
      return s.includes(v) ? [s, []] : [[...s, v], new Set([v, v.toUpperCase()])];
    });
    const out = await through([['k', 'x'], ['k', 'x'], ['k', 'y'], ['j', 'x']], dedupe, 2);
    expect(out).toEqual([['k', 'x'], ['k', 'X'], ['k', 'y'], ['k', 'Y'], ['j', 'x'], ['j', 'X']]);
  });

  it('a second element that is not iterable is a StepError naming step and key', async () => {
    const err = await stepError([['k', 1]], op.statefulFlatMap('sfm', () => [1, 2 as never]));
    expect(err.message).toMatch(/^step 'f\.sfm', key "k": the mapper must return \[newState, iterable of values\], got a second element of number 2/);
  });

  it('a non-2-tuple is a StepError naming step and key', async () => {
    const err = await stepError([['k', 1]], op.statefulFlatMap('sfm', () => 'no' as never));
    expect(err.message).toMatch(/^step 'f\.sfm', key "k": the mapper must return a 2-element array \[newState, values\]/);
  });
});

describe('stateful', () => {
  function counter(resume: number | undefined) {
    let n = resume ?? 0;
    return {
      onItem(v: string, emit: (w: string) => void) {
        n++;
        emit(`${v}${n}`);
        return v === 'reset' ? ('discard' as const) : ('retain' as const);
      },
      onEof(emit: (w: string) => void) {
        emit(`eof${n}`);
        return 'discard' as const;
      },
      snapshot: () => n,
    };
  }

  it('sees one value at a time; a discard mid-batch gives later values a fresh logic', async () => {
    const out = await through(
      [['a', 'x'], ['a', 'y'], ['a', 'reset'], ['a', 'z'], ['b', 'x']],
      op.stateful('count', counter),
      5,
    );
    expect(out).toEqual([['a', 'x1'], ['a', 'y2'], ['a', 'reset3'], ['a', 'z1'], ['b', 'x1'], ['a', 'eof1'], ['b', 'eof1']]);
  });

  it('a key discarded by its last value gets no onEof', async () => {
    const out = await through([['a', 'x'], ['a', 'reset']], op.stateful('count', counter));
    expect(out).toEqual([['a', 'x1'], ['a', 'reset2']]);
  });

  it('onNotify is forwarded', async () => {
    let due: number | undefined = 0;
    const out = await through(
      [['a', 1]],
      op.stateful('t', () => ({
        onItem: () => 'retain',
        notifyAt: () => due,
        onNotify(emit: (w: string) => void) {
          due = undefined;
          emit('ding');
          return 'retain';
        },
        snapshot: () => 0,
      })),
    );
    expect(out).toEqual([['a', 'ding']]);
  });

  it('a throwing onItem names step and key', async () => {
    const err = await stepError([['a', 1]], op.stateful('st', () => ({
      onItem: () => {
        throw new Error('item broke');
      },
      snapshot: () => 0,
    })));
    expect(err.message).toMatch(/^step 'f\.st', key "a": .*item broke/);
  });

  it('a builder returning a logic without onItem fails naming step, key and onItem', async () => {
    const err = await stepError([['a', 1]], op.stateful('st', () => ({ snapshot: () => 0 }) as never));
    expect(err.stepId).toBe('f.st');
    expect(err.key).toBe('a');
    expect(err.message).toMatch(/onItem/);
  });
});
