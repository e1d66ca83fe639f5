import { describe, expect, it } from 'vitest';
import { CountWindower, EventClock, SystemClock, collectWindow } from 'weir/windowing';
import { type Ev, FakeTime, downs, ev, lates, metas, runWindow, secs } from './support.js';

describe('CountWindower', () => {
  it('makes a window of every N items per key, and closes the rest at the end', async () => {
    const time = new FakeTime();
    const input = [1, 2, 3, 4, 5, 6, 7].map((x) => ev(x % 2 ? 'odd' : 'even', x));
    const r = await runWindow(input, (k) => k.pipe(collectWindow('w', new SystemClock({ now: time.now }), new CountWindower(2))), { time, batchSize: 3 });
    expect(downs(r).map(([k, id, v]) => [k, id, secs(v)])).toEqual([
      ['odd', 0, [1, 3]],
      ['even', 0, [2, 4]],
      ['odd', 1, [5, 7]],
      ['even', 1, [6]],
    ]);
    expect(r.late).toEqual([]);
  });

  it('closes a window as soon as it is full, in the same batch', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 1), ev('a', 2), ev('a', 3), ev('a', 4), ev('a', 5)], (k) => k.pipe(collectWindow('w', new EventClock((e: Ev) => e.at, 0, { now: time.now }), new CountWindower(2))), { time, batchSize: 5 });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [1, 2]],
      [1, [3, 4]],
      [2, [5]],
    ]);
    // The meta spans the first and the last item's timestamps.
    expect(metas(r).map(([, id, o, c]) => [id, o, c])).toEqual([
      [0, 1, 2],
      [1, 3, 4],
      [2, 5, 5],
    ]);
  });

  it('counts in timestamp order when ordered, and routes late items with id -1', async () => {
    const time = new FakeTime();
    const input = [ev('a', 10), ev('a', 8), ev('a', 9), ev('a', 20), ev('a', 1)];
    const r = await runWindow(input, (k) => k.pipe(collectWindow('w', new EventClock((e: Ev) => e.at, 5_000, { now: time.now }), new CountWindower(3))), { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [8, 9, 10]],
      [1, [20]],
    ]);
    expect(lates(r)).toEqual([['a', -1, 1]]);
  });
});
