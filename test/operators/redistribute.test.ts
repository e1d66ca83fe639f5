import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';

describe('redistribute', () => {
  it('passes every item through unchanged with one worker', async () => {
    const out: unknown[] = [];
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource([1, 'a', ['k', 2]], 2)),
      op.redistribute('balance'),
      op.output('out', new TestingSink(out)),
    );
    await runMain(flow);
    expect(out).toEqual([1, 'a', ['k', 2]]);
  });
});
