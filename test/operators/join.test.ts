import { describe, expect, it } from 'vitest';
import { Dataflow, type KeyedStream, type Stream, StepError, WeirError, runMain } from 'weir';
import * as op from 'weir/operators';
import type { JoinOptions } from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';

type Tagged = [side: string, key: string, value: number];

const TWO: Tagged[] = [['L', 'a', 1], ['R', 'a', 10], ['L', 'a', 2], ['L', 'b', 3], ['R', 'a', 11], ['R', 'a', 12], ['L', 'a', 4]];
const THREE: Tagged[] = [['A', 'k', 1], ['B', 'k', 2], ['A', 'k', 3], ['C', 'k', 4], ['B', 'k', 5], ['C', 'k', 6]];

// Produced by Bytewax 0.21 from the same input and the same flow shape (a chain of branches, one
// per side, then op.join), run with bytewax.testing.run_main; None is undefined here.
const BYTEWAX: Record<string, unknown[]> = {
  'two/first/complete': [['a', [1, 10]], ['a', [2, 11]], ['a', [4, 12]]],
  'three/first/complete': [['k', [1, 2, 4]]],
  'two/first/final': [['a', [1, 10]], ['b', [3, undefined]]],
  'three/first/final': [['k', [1, 2, 4]]],
  'two/first/running': [['a', [1, undefined]], ['a', [1, 10]], ['a', [1, 10]], ['b', [3, undefined]], ['a', [1, 10]], ['a', [1, 10]], ['a', [1, 10]]],
  'three/first/running': [['k', [1, undefined, undefined]], ['k', [1, 2, undefined]], ['k', [1, 2, undefined]], ['k', [1, 2, 4]], ['k', [1, 2, 4]], ['k', [1, 2, 4]]],
  'two/last/complete': [['a', [1, 10]], ['a', [2, 11]], ['a', [4, 12]]],
  'three/last/complete': [['k', [3, 2, 4]]],
  'two/last/final': [['a', [4, 12]], ['b', [3, undefined]]],
  'three/last/final': [['k', [3, 5, 6]]],
  'two/last/running': [['a', [1, undefined]], ['a', [1, 10]], ['a', [2, 10]], ['b', [3, undefined]], ['a', [2, 11]], ['a', [2, 12]], ['a', [4, 12]]],
  'three/last/running': [['k', [1, undefined, undefined]], ['k', [1, 2, undefined]], ['k', [3, 2, undefined]], ['k', [3, 2, 4]], ['k', [3, 5, 4]], ['k', [3, 5, 6]]],
  'two/product/complete': [['a', [1, 10]], ['a', [2, 11]], ['a', [4, 12]]],
  'three/product/complete': [['k', [1, 2, 4]], ['k', [3, 2, 4]]],
  'two/product/final': [['a', [1, 10]], ['a', [1, 11]], ['a', [1, 12]], ['a', [2, 10]], ['a', [2, 11]], ['a', [2, 12]], ['a', [4, 10]], ['a', [4, 11]], ['a', [4, 12]], ['b', [3, undefined]]],
  'three/product/final': [['k', [1, 2, 4]], ['k', [1, 2, 6]], ['k', [1, 5, 4]], ['k', [1, 5, 6]], ['k', [3, 2, 4]], ['k', [3, 2, 6]], ['k', [3, 5, 4]], ['k', [3, 5, 6]]],
  'two/product/running': [['a', [1, undefined]], ['a', [1, 10]], ['a', [1, 10]], ['a', [2, 10]], ['b', [3, undefined]], ['a', [1, 10]], ['a', [1, 11]], ['a', [2, 10]], ['a', [2, 11]], ['a', [1, 10]], ['a', [1, 11]], ['a', [1, 12]], ['a', [2, 10]], ['a', [2, 11]], ['a', [2, 12]], ['a', [1, 10]], ['a', [1, 11]], ['a', [1, 12]], ['a', [2, 10]], ['a', [2, 11]], ['a', [2, 12]], ['a', [4, 10]], ['a', [4, 11]], ['a', [4, 12]]],
  'three/product/running': [['k', [1, undefined, undefined]], ['k', [1, 2, undefined]], ['k', [1, 2, undefined]], ['k', [3, 2, undefined]], ['k', [1, 2, 4]], ['k', [3, 2, 4]], ['k', [1, 2, 4]], ['k', [1, 5, 4]], ['k', [3, 2, 4]], ['k', [3, 5, 4]], ['k', [1, 2, 4]], ['k', [1, 2, 6]], ['k', [1, 5, 4]], ['k', [1, 5, 6]], ['k', [3, 2, 4]], ['k', [3, 2, 6]], ['k', [3, 5, 4]], ['k', [3, 5, 6]]],
};

/** One input split by tag into keyed sides, then joined, as in the Bytewax flow. */
function joinFlow(items: Tagged[], sides: string[], options: JoinOptions, out: unknown[]): Dataflow {
  const flow = new Dataflow('j');
  let rest: Stream<Tagged> = flow.pipe(op.input('inp', new TestingSource(items)));
  const streams: KeyedStream<number>[] = [];
  sides.forEach((side, i) => {
    const { trues, falses } = op.branch(`b${i}`, rest, (x: Tagged) => x[0] === side);
    streams.push(trues.pipe(op.keyOn(`k${i}`, (x: Tagged) => x[1]), op.mapValue(`v${i}`, (x: Tagged) => x[2])));
    rest = falses;
  });
  const [first, ...others] = streams;
  const joined = first!.pipe(op.join('j', ...others, options));
  joined.pipe(op.output('out', new TestingSink<unknown>(out)));
  return flow;
}

describe('join matches Bytewax', () => {
  for (const insertMode of ['first', 'last', 'product'] as const) {
    for (const emitMode of ['complete', 'final', 'running'] as const) {
      for (const [name, items, sides] of [
        ['two', TWO, ['L', 'R']],
        ['three', THREE, ['A', 'B', 'C']],
      ] as const) {
        it(`${name} sides, insertMode ${insertMode}, emitMode ${emitMode}`, async () => {
          const out: unknown[] = [];
          await runMain(joinFlow(items as Tagged[], sides as unknown as string[], { insertMode, emitMode }, out));
          expect(out).toEqual(BYTEWAX[`${name}/${insertMode}/${emitMode}`]);
        });
      }
    }
  }

  it('defaults to insertMode last and emitMode complete', async () => {
    const out: unknown[] = [];
    await runMain(joinFlow(THREE, ['A', 'B', 'C'], {}, out));
    expect(out).toEqual(BYTEWAX['three/last/complete']);
  });
});

describe('join', () => {
  it('joins separate inputs by key', async () => {
    const out: unknown[] = [];
    const flow = new Dataflow('j');
    const names = flow.pipe(op.input('names', new TestingSource([['u1', 'Ada'], ['u2', 'Bob']] as [string, string][])));
    const emails = flow.pipe(op.input('emails', new TestingSource([['u2', 'bob@x'], ['u1', 'ada@x'], ['u3', 'c@x']] as [string, string][])));
    names.pipe(op.join('user', emails), op.output('out', new TestingSink(out)));
    await runMain(flow);
    expect(out).toEqual(expect.arrayContaining([['u1', ['Ada', 'ada@x']], ['u2', ['Bob', 'bob@x']]]));
    expect(out).toHaveLength(2);
  });

  it('rejects unknown modes', () => {
    const flow = new Dataflow('j');
    const s = flow.pipe(op.input('inp', new TestingSource<[string, number]>([])));
    expect(() => op.join('j', s, { insertMode: 'all' as never })).toThrow(WeirError);
    expect(() => op.join('j', s, { emitMode: 'eager' as never })).toThrow(/emitMode/);
  });

  it('an unkeyed item is an error naming the join step', async () => {
    const flow = new Dataflow('j');
    const a = flow.pipe(op.input('a', new TestingSource([5 as unknown as [string, number]])));
    const b = flow.pipe(op.input('b', new TestingSource<[string, number]>([])));
    a.pipe(op.join('jn', b), op.output('out', new TestingSink<unknown>([])));
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/^step 'j\.jn': expected a \[key, value\] pair/);
  });

  it('a half-complete row survives an abort and completes after the resume', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const items = [['L', 'a', 1], ['R', 'b', 20], TestingSource.ABORT(), ['R', 'a', 10], ['L', 'b', 2]] as unknown as Tagged[];
    const out1: unknown[] = [];
    await runMain(joinFlow(items, ['L', 'R'], {}, out1), { epochInterval: 0, recovery });
    expect(out1).toEqual([]);
    const out2: unknown[] = [];
    await runMain(joinFlow(items, ['L', 'R'], {}, out2), { epochInterval: 0, recovery });
    expect(out2).toEqual([['a', [1, 10]], ['b', [2, 20]]]);
  });
});
