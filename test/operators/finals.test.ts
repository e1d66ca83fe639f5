import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, type Stream, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';

function flowWith(items: unknown[], step: (s: Stream<any>) => Stream<any>, out: unknown[], batchSize = 2): Dataflow {
  const flow = new Dataflow('f');
  step(flow.pipe(op.input('inp', new TestingSource(items, batchSize)))).pipe(op.output('out', new TestingSink(out)));
  return flow;
}

async function through(items: unknown[], step: (s: Stream<any>) => Stream<any>): Promise<unknown[]> {
  const out: unknown[] = [];
  await runMain(flowWith(items, step, out));
  return out.sort((x, y) => String((x as unknown[])[0]).localeCompare(String((y as unknown[])[0])));
}

async function stepError(items: unknown[], step: (s: Stream<any>) => Stream<any>): Promise<StepError> {
  const err = await runMain(flowWith(items, step, [])).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepError);
  return err as StepError;
}

const kv: [string, number][] = [['a', 3], ['b', 10], ['a', 1], ['a', 7], ['b', -2], ['c', 5]];

describe('foldFinal', () => {
  it('folds every value of a key and emits [key, acc] only at EOF', async () => {
    const out = await through(kv, op.foldFinal('all', () => [] as number[], (acc: number[], v: number) => [...acc, v]));
    expect(out).toEqual([['a', [3, 1, 7]], ['b', [10, -2]], ['c', [5]]]);
  });

  it('emits nothing for an empty input', async () => {
    expect(await through([], op.foldFinal('all', () => 0, (a: number) => a + 1))).toEqual([]);
  });

  it('a throwing folder names step and key', async () => {
    const err = await stepError([['k', 1]], op.foldFinal('fold', () => 0, () => {
      throw new Error('fold broke');
    }));
    expect(err.message).toMatch(/^step 'f\.fold', key "k": .*fold broke/);
  });

  it('a throwing builder names step and key', async () => {
    const err = await stepError([['k', 1]], op.foldFinal('fold', () => {
      throw new Error('no acc');
    }, (a: number) => a));
    expect(err.message).toMatch(/^step 'f\.fold', key "k": .*no acc/);
  });

  it('a partial fold resumes after an abort', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const items: unknown[] = [['a', 1], ['a', 2], TestingSource.ABORT(), ['a', 4]];
    const sum = op.foldFinal('sum', () => 0, (s: number, v: number) => s + v);
    const out1: unknown[] = [];
    expect((await runMain(flowWith(items, sum, out1, 1), { epochInterval: 0, recovery })).reason).toBe('aborted');
    expect(out1).toEqual([]);
    const out2: unknown[] = [];
    await runMain(flowWith(items, sum, out2, 1), { epochInterval: 0, recovery });
    expect(out2).toEqual([['a', 7]]);
  });
});

describe('reduceFinal', () => {
  it('combines values pairwise per key', async () => {
    expect(await through(kv, op.reduceFinal('sum', (a: number, b: number) => a + b))).toEqual([['a', 11], ['b', 8], ['c', 5]]);
    // In arrival order: not commutative.
    const strs = kv.map(([k, v]) => [k, String(v)]);
    expect(await through(strs, op.reduceFinal('cat', (a: string, b: string) => `${a},${b}`))).toEqual([
      ['a', '3,1,7'],
      ['b', '10,-2'],
      ['c', '5'],
    ]);
  });

  it('keeps undefined and null values intact', async () => {
    const out = await through([['k', null], ['j', undefined]], op.reduceFinal('r', (a: unknown) => a));
    expect(out).toEqual([['j', undefined], ['k', null]]);
  });

  it('a throwing reducer names step and key', async () => {
    const err = await stepError([['k', 1], ['k', 2]], op.reduceFinal('red', () => {
      throw new Error('reduce broke');
    }));
    expect(err.stepId).toBe('f.red');
    expect(err.key).toBe('k');
  });
});

describe('countFinal', () => {
  it('counts items per key', async () => {
    const words = ['the', 'cat', 'the', 'hat', 'the'];
    expect(await through(words, op.countFinal('count', (w: string) => w))).toEqual([['cat', 1], ['hat', 1], ['the', 3]]);
  });

  it('a non-string key is a StepError naming the step', async () => {
    const err = await stepError([1], op.countFinal('count', (x: number) => x as unknown as string));
    expect(err.message).toMatch(/^step 'f\.count\/key': the key function must return a string, got number 1/);
  });
});

describe('maxFinal and minFinal', () => {
  it('emit the largest and smallest value per key', async () => {
    expect(await through(kv, op.maxFinal('max'))).toEqual([['a', 7], ['b', 10], ['c', 5]]);
    expect(await through(kv, op.minFinal('min'))).toEqual([['a', 1], ['b', -2], ['c', 5]]);
  });

  it('compare by a projection and keep the first of equals, as Python max/min do', async () => {
    const scores = [
      ['u', { p: 3, n: 'first' }],
      ['u', { p: 9, n: 'high' }],
      ['u', { p: 9, n: 'high-again' }],
      ['u', { p: 1, n: 'low' }],
      ['u', { p: 1, n: 'low-again' }],
    ];
    expect(await through(scores, op.maxFinal('max', (s: { p: number }) => s.p))).toEqual([['u', { p: 9, n: 'high' }]]);
    expect(await through(scores, op.minFinal('min', (s: { p: number }) => s.p))).toEqual([['u', { p: 1, n: 'low' }]]);
  });

  it('compare strings', async () => {
    expect(await through([['k', 'pear'], ['k', 'apple'], ['k', 'zoo']], op.maxFinal('max'))).toEqual([['k', 'zoo']]);
  });
});
