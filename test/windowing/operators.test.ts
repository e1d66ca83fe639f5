import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';
import {
  EventClock,
  SessionWindower,
  TumblingWindower,
  collectWindow,
  countWindow,
  foldWindow,
  joinWindow,
  maxWindow,
  minWindow,
  reduceWindow,
  window,
  type Windower,
  type WindowLogic,
} from 'weir/windowing';
import { ALIGN, type Ev, FakeTime, downs, ev, runWindow, s, secs } from './support.js';

const clockOf = (time: FakeTime, wait = 0) => new EventClock((e: Ev) => e.at, wait, { now: time.now });
const T5 = () => new TumblingWindower(5_000, ALIGN);
const input = [ev('a', 0, undefined, 3), ev('a', 1, undefined, 7), ev('a', 2, undefined, 5), ev('b', 3, undefined, 1), ev('a', 6, undefined, 2)];
const val = (e: Ev) => e.v as number;

describe('window operators', () => {
  it('foldWindow folds each window', async () => {
    const time = new FakeTime();
    const r = await runWindow(input, (k) => k.pipe(foldWindow('f', clockOf(time), T5(), () => 0, (acc, e: Ev) => acc + val(e))), { time });
    // Each key has its own watermark: 'a' closes window 0 when its item at 6 s arrives, 'b' at the end.
    expect(downs(r)).toEqual([
      ['a', 0, 15],
      ['a', 1, 2],
      ['b', 0, 1],
    ]);
  });

  it('reduceWindow, maxWindow and minWindow reduce each window', async () => {
    const time = new FakeTime();
    const pick = (r: Awaited<ReturnType<typeof runWindow>>) => downs(r).map(([k, id, e]) => [k, id, val(e as Ev)]);
    const red = await runWindow(input, (k) => k.pipe(reduceWindow('r', clockOf(time), T5(), (a: Ev, b: Ev) => ({ ...a, v: val(a) + val(b) }))), { time });
    expect(pick(red)).toEqual([
      ['a', 0, 15],
      ['a', 1, 2],
      ['b', 0, 1],
    ]);
    const max = await runWindow(input, (k) => k.pipe(maxWindow('m', clockOf(time), T5(), val)), { time });
    expect(pick(max)).toEqual([
      ['a', 0, 7],
      ['a', 1, 2],
      ['b', 0, 1],
    ]);
    const min = await runWindow(input, (k) => k.pipe(minWindow('m', clockOf(time), T5(), val)), { time });
    expect(pick(min)).toEqual([
      ['a', 0, 3],
      ['a', 1, 2],
      ['b', 0, 1],
    ]);
  });

  it('collectWindow keeps timestamp order when ordered, arrival order when not', async () => {
    const time = new FakeTime();
    const shuffled = [ev('a', 3), ev('a', 1), ev('a', 2), ev('a', 1), ev('a', 0)];
    const ordered = await runWindow(shuffled, (k) => k.pipe(collectWindow('c', clockOf(time, 10_000), T5())), { time });
    expect(downs(ordered).map(([, , v]) => secs(v))).toEqual([[0, 1, 1, 2, 3]]);
    const arrival = await runWindow(shuffled, (k) => k.pipe(collectWindow('c', clockOf(time, 10_000), T5(), { ordered: false })), { time });
    expect(downs(arrival).map(([, , v]) => secs(v))).toEqual([[3, 1, 2, 1, 0]]);
  });

  it('countWindow keys and counts an unkeyed stream (the design example)', async () => {
    const time = new FakeTime();
    const flow = new Dataflow('wc');
    const out: unknown[] = [];
    const late: unknown[] = [];
    const words = flow.pipe(
      op.input('in', new TestingSource([
        { at: s(0), w: 'to' },
        { at: s(1), w: 'be' },
        { at: s(2), w: 'to' },
        { at: s(7), w: 'be' },
        { at: s(2), w: 'be' },
        { at: s(1), w: 'or' },
      ])),
    );
    const counts = words.pipe(countWindow('c', new EventClock((x: { at: number; w: string }) => x.at, 0, { now: time.now }), T5(), (x: { w: string }) => x.w));
    counts.pipe(op.output('out', new TestingSink(out)));
    counts.late.pipe(op.output('late', new TestingSink(late)));
    await runMain(flow, { now: time.now });
    // 'be' at 7 s closes be's window 0; 'be' at 2 s is then late for it. 'or' has its own watermark.
    // Windows still open at EOF close in key order.
    expect(out).toEqual([
      ['be', [0, 1]],
      ['be', [1, 1]],
      ['or', [0, 1]],
      ['to', [0, 2]],
    ]);
    expect(late).toEqual([['be', [0, { at: s(2), w: 'be' }]]]);
  });

  it('window runs a custom logic that emits on every value and on close', async () => {
    const time = new FakeTime();
    const running = (resume?: number): WindowLogic<Ev, string, number> => {
      let n = resume ?? 0;
      return {
        onValue: (_e, emit) => emit(`value ${++n}`),
        onClose: (emit) => emit(`closed after ${n}`),
        snapshot: () => n,
      };
    };
    const r = await runWindow([ev('a', 0), ev('a', 1), ev('a', 5)], (k) => k.pipe(window('w', clockOf(time), T5(), running, { ordered: false })), { time });
    expect(downs(r)).toEqual([
      ['a', 0, 'value 1'],
      ['a', 0, 'value 2'],
      ['a', 1, 'value 1'],
      ['a', 0, 'closed after 2'],
      ['a', 1, 'closed after 1'],
    ]);
  });
});

describe('joinWindow', () => {
  async function join(options: Parameters<typeof joinWindow>[3], left: Ev[], right: Ev[], windower: Windower<any> = T5()) {
    const time = new FakeTime();
    const flow = new Dataflow('j');
    const out: unknown[] = [];
    const keyed = (id: string, xs: Ev[]) => flow.pipe(op.input(id, new TestingSource(xs)), op.keyOn(`${id}_k`, (e: Ev) => e.key));
    const l = keyed('l', left);
    const r = keyed('r', right);
    const joined = l.pipe(joinWindow('j', new EventClock((e: Ev) => e.at, 60_000, { now: time.now }), windower, r, options));
    joined.pipe(op.output('out', new TestingSink(out)));
    await runMain(flow, { now: time.now });
    return (out as [string, [number, (Ev | undefined)[]]][]).map(([k, [id, row]]) => [k, id, row.map((e) => e?.v)]);
  }
  const L = [ev('u', 0, undefined, 'l1'), ev('u', 1, undefined, 'l2'), ev('u', 6, undefined, 'l3'), ev('v', 0, undefined, 'lv')];
  const R = [ev('u', 2, undefined, 'r1'), ev('u', 3, undefined, 'r2')];

  it('emits each window’s last values when it closes (final, last: the default)', async () => {
    expect((await join(undefined, L, R)).sort()).toEqual([
      ['u', 0, ['l2', 'r2']],
      ['u', 1, ['l3', undefined]],
      ['v', 0, ['lv', undefined]],
    ]);
  });

  it('supports first and product inserts', async () => {
    expect(await join({ insertMode: 'first' }, L, R)).toContainEqual(['u', 0, ['l1', 'r1']]);
    const product = await join({ insertMode: 'product' }, L, R);
    expect(product.filter(([k, id]) => k === 'u' && id === 0)).toEqual([
      ['u', 0, ['l1', 'r1']],
      ['u', 0, ['l1', 'r2']],
      ['u', 0, ['l2', 'r1']],
      ['u', 0, ['l2', 'r2']],
    ]);
  });

  it('emits complete rows as soon as every side has a value (complete)', async () => {
    const rows = await join({ emitMode: 'complete' }, L, R);
    expect(rows.filter(([k]) => k === 'u')).toEqual([['u', 0, ['l2', 'r1']]]);
  });

  it('merges session state when sessions merge', async () => {
    const rows = await join({ insertMode: 'product' }, [ev('u', 0, undefined, 'a'), ev('u', 10, undefined, 'b')], [ev('u', 5, undefined, 'c')], new SessionWindower(6_000));
    expect(rows).toEqual([
      ['u', 0, ['a', 'c']],
      ['u', 0, ['b', 'c']],
    ]);
  });
});
