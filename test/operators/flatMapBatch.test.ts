import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';

describe('flatMapBatch', () => {
  it('gets whole batches with their epoch and emits what the mapper returns', async () => {
    const calls: [number[], number][] = [];
    const out: number[] = [];
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource([1, 2, 3, 4, 5], 2)),
      op.flatMapBatch('sum', (xs: number[], epoch: number) => {
        calls.push([[...xs], epoch]);
        return [xs.reduce((a, b) => a + b, 0)];
      }),
      op.output('out', new TestingSink(out)),
    );
    await runMain(flow, { epochInterval: 0 });
    expect(calls).toEqual([[[1, 2], 1], [[3, 4], 2], [[5], 3]]);
    expect(out).toEqual([3, 7, 5]);
  });

  it('an empty result emits nothing', async () => {
    const out: number[] = [];
    const flow = new Dataflow('f');
    flow.pipe(op.input('inp', new TestingSource([1, 2])), op.flatMapBatch('none', () => []), op.output('out', new TestingSink(out)));
    await runMain(flow);
    expect(out).toEqual([]);
  });

  it('a mapper returning a non-array is a StepError naming the step', async () => {
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource([1])),
      op.flatMapBatch('bad', () => 42 as unknown as number[]),
      op.output('out', new TestingSink<unknown>([])),
    );
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toBe("step 'f.bad': the batch mapper must return an array, got number 42");
  });

  it('a throwing mapper is a StepError naming the step', async () => {
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource([1])),
      op.flatMapBatch('bad', () => {
        throw new TypeError('nope');
      }),
      op.output('out', new TestingSink<unknown>([])),
    );
    await expect(runMain(flow)).rejects.toThrow(/^step 'f\.bad': the mapper threw: nope$/);
  });
});
