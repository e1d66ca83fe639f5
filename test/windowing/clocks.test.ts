import { describe, expect, it } from 'vitest';
import { EventClock, SystemClock, TumblingWindower, collectWindow, countWindow } from 'weir/windowing';
import { type Ev, FakeTime, downs, ev, metas, runWindow, s, secs, tick } from './support.js';

const env = (time: FakeTime) => ({ stepId: 'f.w', now: time.now });

describe('EventClock', () => {
  it('keeps the largest event time minus the wait, advanced by system time, never backwards', () => {
    const time = new FakeTime(1_000_000);
    const c = new EventClock((x: number) => x, 100).build(undefined, env(time));
    expect(c.watermark).toBe(-Infinity);
    expect(c.toSystem(5_000)).toBeUndefined();
    c.beforeBatch();
    expect(c.onItem(1_000)).toBe(1_000);
    expect(c.watermark).toBe(900);
    expect(c.onItem(500)).toBe(500); // older: the watermark stays
    expect(c.watermark).toBe(900);
    time.t += 50;
    expect(c.onNotify()).toBe(950);
    time.t -= 40; // the system clock steps back: the watermark holds
    expect(c.onNotify()).toBe(950);
    c.beforeBatch();
    expect(c.onItem(1_020)).toBe(1_020); // 920 < 950: no change
    expect(c.watermark).toBe(950);
    c.onItem(2_000);
    expect(c.watermark).toBe(1_900);
    // The watermark reaches 2_500 600 ms of system time later.
    expect(c.toSystem(2_500)).toBe(1_000_050 + 600);
    expect(c.onEof()).toBe(Infinity);
  });

  it('accepts Dates and resumes from its snapshot', () => {
    const time = new FakeTime(1_000_000);
    const clock = new EventClock((x: Date) => x, 0);
    const c = clock.build(undefined, env(time));
    c.beforeBatch();
    c.onItem(new Date(s(10)));
    expect(c.watermark).toBe(s(10));
    const snap = c.snapshot();
    time.t += 1_000;
    const resumed = clock.build(structuredClone(snap), env(time));
    expect(resumed.watermark).toBe(s(11)); // system time that passed counts
  });

  it('closes the windows of an idle source as system time passes', async () => {
    const time = new FakeTime();
    const T0 = time.t;
    const events = [
      ev('a', 0, T0),
      ev('a', 4, T0 + 1_000), // watermark 2s (wait 2s), window [0, 5) due at T0 + 4s
      ...[2, 3, 4, 5, 6, 10].map((x) => tick(T0 + x * 1_000)), // no more items for 'a'
    ];
    const r = await runWindow(events, (k) => k.pipe(collectWindow('w', new EventClock((e: Ev) => e.at, 2_000, { now: time.now }), new TumblingWindower(5_000, s(0)))), { time });
    expect(r.down.map(([at, [, [id, v]]]) => [at - T0, id, secs(v)])).toEqual([[4_000, 0, [0, 4]]]);
    expect(r.meta.map(([at]) => at - T0)).toEqual([4_000]);
  });

  it('closes at the first system time at or after the close time, not before', async () => {
    const time = new FakeTime();
    const T0 = time.t;
    const events = [ev('a', 0, T0), ev('a', 4, T0 + 1_000), tick(T0 + 3_999), tick(T0 + 4_000), tick(T0 + 9_000)];
    const r = await runWindow(events, (k) => k.pipe(collectWindow('w', new EventClock((e: Ev) => e.at, 2_000, { now: time.now }), new TumblingWindower(5_000, s(0)))), { time });
    expect(r.down.map(([at]) => at - T0)).toEqual([4_000]);
  });
});

describe('SystemClock', () => {
  it('stamps items with the system time and closes windows as it passes', async () => {
    const time = new FakeTime(); // 2030-01-01T00:00:00Z, on a 5 s boundary
    const T0 = time.t;
    const events = [ev('a', 0, T0), ev('a', 0, T0 + 1_000), ev('a', 0, T0 + 4_999), tick(T0 + 5_000), ev('a', 0, T0 + 6_000), tick(T0 + 9_999), tick(T0 + 10_000), tick(T0 + 20_000)];
    const r = await runWindow(events, (k) => k.pipe(collectWindow('w', new SystemClock({ now: time.now }), new TumblingWindower(5_000))), { time });
    expect(r.down.map(([at, [, [id, v]]]) => [at - T0, id, (v as unknown[]).length])).toEqual([
      [5_000, T0 / 5_000, 3],
      [10_000, T0 / 5_000 + 1, 1],
    ]);
    expect(r.late).toEqual([]);
  });

  it('never routes anything to late, and counts by arrival', async () => {
    const time = new FakeTime();
    const T0 = time.t;
    const r = await runWindow([ev('a', 50, T0), ev('a', 1, T0 + 10), ev('b', -100, T0 + 20)], (k) =>
      k.pipe(countWindow('c', new SystemClock({ now: time.now }), new TumblingWindower(60_000), (kv: [string, Ev]) => kv[0])) as never,
    { time });
    expect(r.late).toEqual([]);
    expect(downs(r)).toEqual([
      ['a', T0 / 60_000, 2],
      ['b', T0 / 60_000, 1],
    ]);
    expect(metas(r).length).toBe(2);
  });
});
