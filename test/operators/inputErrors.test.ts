import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { EOF, FixedPartitionedSource, type StatefulSourcePartition } from 'weir/inputs';
import * as op from 'weir/operators';
import { TestingSink } from 'weir/testing';

/** Parses numbers; anything else is an in-band error, not a failure. */
class Parsing extends FixedPartitionedSource<number, number, { raw: string; offset: number }> {
  committed: number[] = [];
  constructor(private readonly raw: string[]) {
    super();
  }
  listParts() {
    return ['only'];
  }
  buildPart(_s: string, _p: string, resume: number | undefined): StatefulSourcePartition<number, number, { raw: string; offset: number }> {
    let i = resume ?? 0;
    let bad: { raw: string; offset: number }[] = [];
    return {
      nextBatch: () => {
        if (i >= this.raw.length) return EOF;
        const s = this.raw[i]!;
        const n = Number(s);
        if (Number.isNaN(n)) bad.push({ raw: s, offset: i++ });
        else return [(i++, n)];
        return [];
      },
      takeErrors: () => {
        const out = bad;
        bad = [];
        return out;
      },
      snapshot: () => i,
      epochCommitted: (e) => void this.committed.push(e),
    };
  }
}

describe('input errors and progress hooks', () => {
  it('routes in-band source errors to .errors and tells partitions about committed epochs', async () => {
    const src = new Parsing(['1', 'x', '2', 'y']);
    const flow = new Dataflow('errs');
    const nums = flow.pipe(op.input('in', src));
    const good: number[] = [];
    const bad: unknown[] = [];
    nums.pipe(op.output('good', new TestingSink(good)));
    nums.errors.pipe(op.output('bad', new TestingSink(bad)));
    const r = await runMain(flow, { epochInterval: 0 });
    expect(good).toEqual([1, 2]);
    expect(bad).toEqual([
      { raw: 'x', offset: 1 },
      { raw: 'y', offset: 3 },
    ]);
    expect(src.committed.at(-1)).toBe(r.lastEpoch);
  });
});
