import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';

function split<T>(items: T[], predicate: (x: T) => boolean) {
  const yes: T[] = [];
  const no: T[] = [];
  const flow = new Dataflow('f');
  const s = flow.pipe(op.input('inp', new TestingSource(items, 3)));
  const { trues, falses } = op.branch('split', s, predicate);
  trues.pipe(op.output('yes', new TestingSink(yes)));
  falses.pipe(op.output('no', new TestingSink(no)));
  return { flow, yes, no };
}

describe('branch', () => {
  it('sends items to trues or falses, keeping their order', async () => {
    const { flow, yes, no } = split([1, 2, 3, 4, 5, 6, 7], (x) => x % 3 === 0);
    await runMain(flow);
    expect(yes).toEqual([3, 6]);
    expect(no).toEqual([1, 2, 4, 5, 7]);
  });

  it('both outputs end, so stateful steps on each get their EOF', async () => {
    const out: unknown[] = [];
    const flow = new Dataflow('f');
    const s = flow.pipe(op.input('inp', new TestingSource<[string, number]>([['a', 1], ['b', 2], ['a', 3]])));
    const { trues, falses } = op.branch('split', s, (x: [string, number]) => x[0] === 'a');
    trues.pipe(op.countFinal('ct', (x: [string, number]) => x[0]), op.output('o1', new TestingSink(out)));
    falses.pipe(op.countFinal('cf', (x: [string, number]) => x[0]), op.output('o2', new TestingSink(out)));
    await runMain(flow);
    expect(out).toEqual(expect.arrayContaining([['a', 2], ['b', 1]]));
    expect(out).toHaveLength(2);
  });

  it('a non-boolean answer is an error naming the step (and the key of a keyed item)', async () => {
    const { flow } = split([1], () => 1 as unknown as boolean);
    await expect(runMain(flow)).rejects.toThrow(/^step 'f\.split': the predicate must return a boolean, got number 1/);
    const keyed = split([['k', 1]], () => 'yes' as unknown as boolean);
    const err = (await runMain(keyed.flow).catch((e: unknown) => e)) as StepError;
    expect(err).toBeInstanceOf(StepError);
    expect(err.key).toBe('k');
  });

  it('a throwing predicate names step and key', async () => {
    const { flow } = split([['k', 1]], () => {
      throw new Error('pred broke');
    });
    await expect(runMain(flow)).rejects.toThrow(/^step 'f\.split', key "k": the predicate threw: pred broke/);
  });
});
