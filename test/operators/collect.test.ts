import { describe, expect, it } from 'vitest';
import { Dataflow, WeirError, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';

const HOUR = 3_600_000;

/** Real time plus a skew that `{ advance: ms }` items move forward. */
function skewClock() {
  let skew = 0;
  return { now: () => Date.now() + skew, advance: (ms: number) => void (skew += ms) };
}

function collectFlow(items: unknown[], out: unknown[], clock: ReturnType<typeof skewClock>, maxSize = 3, batchSize = 1) {
  const flow = new Dataflow('f');
  flow.pipe(
    op.input('inp', new TestingSource<any>(items, batchSize)),
    op.filterMap('clock', (x: [string, number] | { advance: number }) => {
      if (Array.isArray(x)) return x;
      clock.advance(x.advance);
      return undefined;
    }),
    op.collect('c', { timeout: HOUR, maxSize, now: clock.now }),
    op.output('out', new TestingSink(out)),
  );
  return flow;
}

describe('collect', () => {
  it('emits a list as soon as it reaches maxSize, and the leftovers at EOF', async () => {
    const clock = skewClock();
    const out: unknown[] = [];
    const items = [['a', 1], ['b', 2], ['a', 3], ['a', 4], ['b', 5], ['a', 6], ['a', 7], ['a', 8], ['a', 9]];
    await runMain(collectFlow(items, out, clock, 3, 4), { now: clock.now });
    // Leftovers at EOF come in key order.
    expect(out).toEqual([['a', [1, 3, 4]], ['a', [6, 7, 8]], ['a', [9]], ['b', [2, 5]]]);
  });

  it('maxSize 1 emits every value alone', async () => {
    const clock = skewClock();
    const out: unknown[] = [];
    await runMain(collectFlow([['a', 1], ['a', 2]], out, clock, 1), { now: clock.now });
    expect(out).toEqual([['a', [1]], ['a', [2]]]);
  });

  it('emits a list timeout ms after its first value', async () => {
    const clock = skewClock();
    const out: unknown[] = [];
    const items = [
      ['a', 1],
      { advance: 0.5 * HOUR },
      ['a', 2],
      ['b', 1],
      { advance: 0.75 * HOUR }, // a is due: 1h after its first value
      ['b', 2],
      ['b', 3], // b is full
      ['a', 3], // a new list with a new deadline
    ];
    await runMain(collectFlow(items, out, clock), { now: clock.now });
    expect(out).toEqual([['a', [1, 2]], ['b', [1, 2, 3]], ['a', [3]]]);
  });

  it('rejects a bad timeout or maxSize', () => {
    expect(() => op.collect('c', { timeout: 0, maxSize: 2 })).toThrow(WeirError);
    expect(() => op.collect('c', { timeout: Number.NaN, maxSize: 2 })).toThrow(/timeout/);
    expect(() => op.collect('c', { timeout: 10, maxSize: 0 })).toThrow(/maxSize/);
    expect(() => op.collect('c', { timeout: 10, maxSize: 1.5 })).toThrow(/maxSize/);
  });

  it('an open list and its deadline survive an abort and resume', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const clock = skewClock();
    const items: unknown[] = [
      ['a', 1],
      ['a', 2],
      TestingSource.ABORT(),
      ['a', 3],
      { advance: 0.5 * HOUR }, // 1.25h after a's first value: due, if the deadline survived
      ['b', 8],
      ['b', 9],
      ['b', 10],
      ['b', 11], // full (maxSize 4)
      ['c', 1],
    ];
    const out1: unknown[] = [];
    const r1 = await runMain(collectFlow(items, out1, clock, 4), { now: clock.now, recovery, epochInterval: 0 });
    expect(r1.reason).toBe('aborted');
    expect(out1).toEqual([]);
    clock.advance(0.75 * HOUR);
    const out2: unknown[] = [];
    await runMain(collectFlow(items, out2, clock, 4), { now: clock.now, recovery, epochInterval: 0 });
    // a's resumed list got 3 and then its old deadline passed; a reset deadline would have
    // held the list until EOF, after b's.
    expect(out2).toEqual([['a', [1, 2, 3]], ['b', [8, 9, 10, 11]], ['c', [1]]]);
  });
});
