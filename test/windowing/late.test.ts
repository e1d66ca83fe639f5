import { describe, expect, it } from 'vitest';
import { Dataflow } from 'weir';
import * as op from 'weir/operators';
import { TestingSource } from 'weir/testing';
import { EventClock, SlidingWindower, TumblingWindower, collectWindow, countWindow } from 'weir/windowing';
import { type Ev, FakeTime, downs, ev, lates, runWindow, secs } from './support.js';

const clockOf = (time: FakeTime, wait = 0) => new EventClock((e: Ev) => e.at, wait, { now: time.now });

describe('late items', () => {
  it('go to .late with the window id they were late for, never dropped', async () => {
    const time = new FakeTime();
    const input = [ev('a', 0), ev('a', 12), ev('a', 3), ev('a', 11), ev('a', 9.5), ev('a', 14)];
    const r = await runWindow(input, (k) => k.pipe(collectWindow('w', clockOf(time, 2_000), new TumblingWindower(5_000, 0 + Date.UTC(2024, 0, 1)))), { time });
    // Watermark after 12 is 10: 3 (window 0, closed) and 9.5 (window 1, closed) are late; 11 is not.
    expect(lates(r)).toEqual([
      ['a', 0, 3],
      ['a', 1, 9.5],
    ]);
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0]],
      [2, [11, 12, 14]],
    ]);
    const seen = downs(r).flatMap(([, , v]) => secs(v)).concat(lates(r).map(([, , x]) => x as number));
    expect(seen.sort((a, b) => a - b)).toEqual([0, 3, 9.5, 11, 12, 14]);
  });

  it('list every sliding window a late item missed', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 30), ev('a', 12)], (k) => k.pipe(collectWindow('w', clockOf(time), new SlidingWindower(10_000, 5_000, Date.UTC(2024, 0, 1)))), { time });
    expect(lates(r)).toEqual([
      ['a', 1, 12],
      ['a', 2, 12],
    ]);
  });

  it('are judged against each key’s own watermark', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 100), ev('b', 1), ev('a', 1)], (k) => k.pipe(collectWindow('w', clockOf(time), new TumblingWindower(5_000, Date.UTC(2024, 0, 1)))), { time });
    expect(lates(r)).toEqual([['a', 0, 1]]);
    expect(downs(r).map(([k, id]) => [k, id]).sort()).toEqual([
      ['a', 20],
      ['b', 0],
    ]);
  });

  it('come with down and meta as properties of the returned stream', () => {
    const flow = new Dataflow('props');
    const words = flow.pipe(op.input('in', new TestingSource<{ at: number; w: string }>([])));
    const counts = words.pipe(countWindow('c', new EventClock((x: { at: number; w: string }) => x.at, 0), new TumblingWindower(5_000), (x) => x.w));
    const { down, late, meta } = counts;
    expect(down).toBe(counts);
    expect(late).not.toBe(down);
    expect(meta).not.toBe(late);
    expect(typeof down.pipe).toBe('function');
  });
});
