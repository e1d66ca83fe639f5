import { describe, expect, it } from 'vitest';
import { EventClock, LATE_SESSION_ID, SessionWindower, collectWindow, foldWindow } from 'weir/windowing';
import { type Ev, FakeTime, downs, ev, lates, metas, runWindow, secs } from './support.js';

const clockOf = (time: FakeTime, wait: number) => new EventClock((e: Ev) => e.at, wait, { now: time.now });
const input = [0, 2, 10, 6, 8, 30, 20, 40].map((x) => ev('a', x));

describe('SessionWindower', () => {
  it('merges sessions an item bridges, like Bytewax (unordered)', async () => {
    // Bytewax 0.21, gap 3s, wait 10s, collect_window(ordered=False), same input:
    //   down [(0, [0, 2]), (2, [6, 10, 8]), (4, [20]), (3, [30]), (5, [40])]
    //   meta of 2: merged_ids {1}
    const time = new FakeTime();
    const r = await runWindow(input, (k) => k.pipe(collectWindow('w', clockOf(time, 10_000), new SessionWindower(3_000), { ordered: false })), { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0, 2]],
      [2, [6, 10, 8]],
      [4, [20]],
      [3, [30]],
      [5, [40]],
    ]);
    expect(lates(r)).toEqual([]);
    // A session spans [first item, last item + gap).
    expect(metas(r)).toEqual([
      ['a', 0, 0, 5, []],
      ['a', 2, 6, 13, [1]],
      ['a', 4, 20, 23, []],
      ['a', 3, 30, 33, []],
      ['a', 5, 40, 43, []],
    ]);
  });

  it('applies items in timestamp order when ordered, like Bytewax', async () => {
    // Bytewax 0.21, ordered: down [(0, [0, 2]), (1, [6, 8, 10]), (2, [20]), (3, [30]), (4, [40])]
    const time = new FakeTime();
    const r = await runWindow(input, (k) => k.pipe(collectWindow('w', clockOf(time, 10_000), new SessionWindower(3_000))), { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0, 2]],
      [1, [6, 8, 10]],
      [2, [20]],
      [3, [30]],
      [4, [40]],
    ]);
    expect(metas(r).every(([, , , , merged]) => (merged as number[]).length === 0)).toBe(true);
  });

  it('merges two open sessions when an on-time item bridges them', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 0), ev('a', 10), ev('a', 5.5)], (k) =>
      k.pipe(collectWindow('w', clockOf(time, 4_500), new SessionWindower(6_000), { ordered: false })),
    { time });
    // Session 1 ([10]) merges into session 0 ([0, 5.5]), the earlier one.
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([[0, [0, 5.5, 10]]]);
    expect(metas(r)).toEqual([['a', 0, 0, 16, [1]]]);
  });

  it('routes a late item that would have bridged two sessions to late, and keeps them apart', async () => {
    const time = new FakeTime();
    // After 10 the watermark is 5.5: sessions [0, 6) and [10, 16) are both open, and 5 is late.
    const r = await runWindow([ev('a', 0), ev('a', 10), ev('a', 5)], (k) =>
      k.pipe(collectWindow('w', clockOf(time, 4_500), new SessionWindower(6_000))),
    { time });
    expect(lates(r)).toEqual([['a', LATE_SESSION_ID, 5]]);
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0]],
      [1, [10]],
    ]);
    expect(metas(r)).toEqual([
      ['a', 0, 0, 6, []],
      ['a', 1, 10, 16, []],
    ]);
  });

  it('starts a new session for an item exactly one gap after the last', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 0), ev('a', 2.5), ev('a', 5), ev('a', 8)], (k) =>
      k.pipe(collectWindow('w', clockOf(time, 10_000), new SessionWindower(3_000))),
    { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0, 2.5, 5]],
      [1, [8]],
    ]);
  });

  it('merges accumulators with the merger (foldWindow)', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 0), ev('a', 10), ev('a', 5.5), ev('b', 1)], (k) =>
      k.pipe(
        foldWindow('c', clockOf(time, 4_500), new SessionWindower(6_000), () => 0, (n: number) => n + 1, {
          merger: (a, b) => a + b,
          ordered: false,
        }),
      ),
    { time });
    expect(downs(r).sort()).toEqual([
      ['a', 0, 3],
      ['b', 0, 1],
    ]);
  });
});
