import { describe, expect, it } from 'vitest';
import { EventClock, SlidingWindower, TumblingWindower, collectWindow, type WindowMeta } from 'weir/windowing';
import { prng } from '../support/cli.js';
import { ALIGN, type Ev, FakeTime, downs, ev, lates, metas, runWindow, s, secs } from './support.js';

const clockOf = (time: FakeTime, wait = 0) => new EventClock((e: Ev) => e.at, wait, { now: time.now });
const ids = (logic: { openFor(ts: number, ids: number[]): void }, ts: number) => {
  const out: number[] = [];
  logic.openFor(ts, out);
  return out;
};

describe('TumblingWindower', () => {
  it('counts window ids from the aligned origin, open inclusive, close exclusive', () => {
    const w = new TumblingWindower(5_000, ALIGN).build(undefined);
    expect(ids(w, s(0))).toEqual([0]);
    expect(ids(w, s(4.999))).toEqual([0]);
    expect(ids(w, s(5))).toEqual([1]);
    expect(ids(w, s(-0.001))).toEqual([-1]);
    expect(ids(w, s(-5))).toEqual([-1]);
    expect(ids(w, s(-5.001))).toEqual([-2]);
  });

  it('accepts alignTo as a Date, ms, or an ISO string with a zone, all the same instant', () => {
    const forms = [new Date(ALIGN), ALIGN, '2024-01-01T00:00:00Z', '2024-01-01T01:00:00+01:00', '2023-12-31T19:00:00-0500'];
    for (const a of forms) {
      const w = new TumblingWindower(3_600_000, a);
      expect(w.align).toBe(ALIGN);
      expect(ids(w.build(undefined), ALIGN + 3_600_000 * 3 + 1)).toEqual([3]);
    }
  });

  it('aligns windows off the minute: alignTo 00:00:02Z makes [2s, 7s)', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 1), ev('a', 2), ev('a', 6.999), ev('a', 7)], (k) =>
      k.pipe(collectWindow('w', clockOf(time), new TumblingWindower(5_000, '2024-01-01T00:00:02Z'))),
    { time });
    expect(downs(r).map(([k, id, v]) => [k, id, secs(v)])).toEqual([
      ['a', -1, [1]],
      ['a', 0, [2, 6.999]],
      ['a', 1, [7]],
    ]);
    expect(metas(r)).toEqual([
      ['a', -1, -3, 2, []],
      ['a', 0, 2, 7, []],
      ['a', 1, 7, 12, []],
    ]);
  });

  it('matches Bytewax window by window (tumbling 5s, wait 0)', async () => {
    // Bytewax 0.21, collect_window, same input:
    //   down [(0, [0, 4]), (1, [5]), (2, [11])]; late [(0, 3), (-1, -1)]
    const time = new FakeTime();
    const r = await runWindow([0, 4, 5, 11, 3, -1].map((x) => ev('a', x)), (k) =>
      k.pipe(collectWindow('w', clockOf(time), new TumblingWindower(5_000, ALIGN))),
    { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [0, [0, 4]],
      [1, [5]],
      [2, [11]],
    ]);
    expect(lates(r)).toEqual([
      ['a', 0, 3],
      ['a', -1, -1],
    ]);
    expect(metas(r).map(([, id, o, c]) => [id, o, c])).toEqual([
      [0, 0, 5],
      [1, 5, 10],
      [2, 10, 15],
    ]);
  });

  it('closes a window exactly when the watermark reaches its close time', async () => {
    const time = new FakeTime();
    const r = await runWindow([ev('a', 0), ev('a', 4.999), ev('a', 5)], (k) =>
      k.pipe(collectWindow('w', clockOf(time), new TumblingWindower(5_000, ALIGN))),
    { time });
    // The item at 4.999 does not close window 0; the item at 5 does, before the end of input.
    expect(r.meta.length).toBe(2);
    expect(metas(r)[0]).toEqual(['a', 0, 0, 5, []]);
  });
});

describe('SlidingWindower', () => {
  it('puts an item in every overlapping window', () => {
    const w = new SlidingWindower(10_000, 5_000, ALIGN).build(undefined);
    expect(ids(w, s(0))).toEqual([-1, 0]);
    expect(ids(w, s(4.9))).toEqual([-1, 0]);
    expect(ids(w, s(5))).toEqual([0, 1]);
    expect(ids(w, s(11))).toEqual([1, 2]);
    const thirds = new SlidingWindower(3_000, 1_000, ALIGN).build(undefined);
    expect(ids(thirds, s(2.5))).toEqual([0, 1, 2]);
  });

  it('is a tumbling window when offset equals length', () => {
    const w = new SlidingWindower(5_000, 5_000, ALIGN).build(undefined);
    expect(ids(w, s(7))).toEqual([1]);
  });

  it('matches Bytewax window by window (10s every 5s, wait 10s, ordered)', async () => {
    // Bytewax 0.21, collect_window, ordered, same input:
    //   down [(-1, [0, 3, 4]), (0, [0, 3, 4, 5, 9]), (1, [5, 9, 11]), (2, [11]), (5, [30]), (6, [30])]
    //   late [(-1, 1), (0, 1)]
    const time = new FakeTime();
    const r = await runWindow([0, 4, 5, 11, 3, 9, 30, 1].map((x) => ev('a', x)), (k) =>
      k.pipe(collectWindow('w', clockOf(time, 10_000), new SlidingWindower(10_000, 5_000, ALIGN))),
    { time });
    expect(downs(r).map(([, id, v]) => [id, secs(v)])).toEqual([
      [-1, [0, 3, 4]],
      [0, [0, 3, 4, 5, 9]],
      [1, [5, 9, 11]],
      [2, [11]],
      [5, [30]],
      [6, [30]],
    ]);
    expect(lates(r)).toEqual([
      ['a', -1, 1],
      ['a', 0, 1],
    ]);
    const m = r.meta.map(([, [, [id, meta]]]) => [id, meta] as [number, WindowMeta]);
    expect(m.map(([id, x]) => [id, (x.openTime - ALIGN) / 1000, (x.closeTime - ALIGN) / 1000])).toEqual([
      [-1, -5, 5],
      [0, 0, 10],
      [1, 5, 15],
      [2, 10, 20],
      [5, 25, 35],
      [6, 30, 40],
    ]);
  });
});

describe('sliding and tumbling windower logic', () => {
  /** The windower logic as it was first written (a set of open ids), as a model. */
  class ModelLogic {
    readonly opened = new Set<number>();
    constructor(
      readonly length: number,
      readonly offset: number,
    ) {}
    openFor(ts: number): number[] {
      const since = ts - ALIGN;
      const out: number[] = [];
      for (let id = Math.floor((since - this.length) / this.offset) + 1; id <= Math.floor(since / this.offset); id++) {
        this.opened.add(id);
        out.push(id);
      }
      return out;
    }
    closeFor(wm: number): [number, WindowMeta][] {
      const closed: [number, WindowMeta][] = [];
      for (const id of this.opened) {
        const openTime = ALIGN + id * this.offset;
        const closeTime = openTime + this.length;
        if (closeTime <= wm) {
          this.opened.delete(id);
          closed.push([id, { openTime, closeTime }]);
        }
      }
      return closed.sort((a, b) => a[0] - b[0]);
    }
    notifyAt(): number | undefined {
      const closes = [...this.opened].map((id) => ALIGN + id * this.offset + this.length);
      return closes.length ? Math.min(...closes) : undefined;
    }
  }

  it('opens windows in any order and closes them in id order, like a set of open ids', () => {
    for (const [length, offset] of [
      [5_000, 5_000],
      [10_000, 5_000],
      [3_000, 1_000],
      [7_000, 3_000],
    ] as const) {
      const rand = prng(length + offset);
      const logic = new SlidingWindower(length, offset, ALIGN).build(undefined);
      const model = new ModelLogic(length, offset);
      let wm = s(0);
      for (let step = 0; step < 2_000; step++) {
        if (rand() < 0.7) {
          // On time, but not in order: anywhere from the watermark to 30 s after it.
          const ts = wm + Math.floor(rand() * 30_000);
          const got: number[] = [];
          got.length = logic.openFor(ts, got);
          expect(got).toEqual(model.openFor(ts));
        } else {
          wm += Math.floor(rand() * 8_000);
          const closed: [number, WindowMeta][] = [];
          logic.closeFor(wm, closed);
          expect(closed).toEqual(model.closeFor(wm));
        }
        expect(logic.notifyAt()).toBe(model.notifyAt());
        expect(logic.isEmpty()).toBe(model.opened.size === 0);
        expect(new Set(logic.snapshot())).toEqual(model.opened);
      }
      const closed: [number, WindowMeta][] = [];
      logic.closeFor(Infinity, closed);
      expect(closed).toEqual(model.closeFor(Infinity));
    }
  });

  it('resumes from open ids in any order', () => {
    const logic = new TumblingWindower(5_000, ALIGN).build([7, 2, 5, 2]);
    expect(logic.snapshot()).toEqual([2, 5, 7]);
    expect(logic.notifyAt()).toBe(s(15));
    const closed: [number, WindowMeta][] = [];
    logic.closeFor(s(30), closed);
    expect(closed.map(([id]) => id)).toEqual([2, 5]);
    expect(logic.snapshot()).toEqual([7]);
    expect(logic.isEmpty()).toBe(false);
  });
});

describe('tumbling window ids', () => {
  /** The next double above or below `x`. */
  const step = (x: number, dir: 1 | -1): number => {
    if (x === 0) return dir * Number.MIN_VALUE;
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    view.setBigInt64(0, view.getBigInt64(0) + BigInt((x > 0 ? 1 : -1) * dir));
    return view.getFloat64(0);
  };

  it('are floor((ts - alignTo) / length) exactly, at and around every window bound', () => {
    const rand = prng(7);
    for (const [length, align] of [
      [60_000, ALIGN],
      [0.1, 0.3],
      [1 / 3, -7.7],
      [1_000, 0],
      [3, 1e15 + 0.5],
    ] as const) {
      const logic = new TumblingWindower(length, align).build(undefined);
      const near: number[] = [];
      for (let k = -3; k < 40; k++) {
        const b = align + k * length;
        let lo = b;
        let hi = b;
        near.push(b);
        for (let i = 0; i < 3; i++) near.push((lo = step(lo, -1)), (hi = step(hi, 1)));
        near.push(b + length / 2);
      }
      const inOrder = [...near].sort((a, b) => a - b);
      const shuffled = near.map((t) => [rand(), t] as const).sort((a, b) => a[0] - b[0]).map(([, t]) => t);
      for (const ts of [...inOrder, ...shuffled, ...inOrder.reverse()]) {
        const got: number[] = [];
        logic.openFor(ts, got);
        expect(got[0], `ts ${ts}, length ${length}, align ${align}`).toBe(Math.floor((ts - align) / length));
      }
    }
  });

  it('keep window -0 (a timestamp a hair below alignTo) as window 0, as a set of ids would', () => {
    const logic = new TumblingWindower(1_000, 0).build(undefined);
    const got: number[] = [];
    logic.openFor(-Number.MIN_VALUE, got);
    expect(got[0]).toBe(-0);
    logic.openFor(0, got);
    expect(got[0]).toBe(0);
    expect(logic.snapshot()).toEqual([0]);
    const closed: [number, WindowMeta][] = [];
    logic.closeFor(1_000, closed);
    expect(closed).toEqual([[0, { openTime: 0, closeTime: 1_000 }]]);
  });
});
