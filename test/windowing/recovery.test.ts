import { describe, expect, it } from 'vitest';
import { TestingSource, type TestingMarker } from 'weir/testing';
import {
  CountWindower,
  EventClock,
  SessionWindower,
  SlidingWindower,
  TumblingWindower,
  type Windower,
  collectWindow,
} from 'weir/windowing';
import { ALIGN, type Ev, FakeTime, type Recorded, ev, runWindow, secs, tempDb, tick } from './support.js';

/** A deterministic stream: 3 keys, event times that jitter, arrival every 400 ms, idle spells. */
function events(T0: number): Ev[] {
  const out: Ev[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  let sys = T0;
  for (let i = 0; i < 90; i++) {
    sys += 400;
    if (i % 30 === 29) {
      // An idle spell: only system time passes, so timers close windows.
      for (let j = 0; j < 8; j++) out.push(tick((sys += 1_000)));
      continue;
    }
    const key = 'abc'[Math.floor(rnd() * 3)]!;
    const at = (sys - T0) / 1000 - rnd() * 4; // up to 4 s out of order
    out.push(ev(key, Math.round(at * 10) / 10, sys));
  }
  out.push(...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((x) => tick(sys + x * 1_000)));
  return out;
}

interface Window {
  at: number;
  value: number[];
}

/** Per window (`key/id`): the system time it closed at and its values; duplicates must agree. */
function windows(r: Recorded): Map<string, Window> {
  const m = new Map<string, Window>();
  for (const [at, [k, [id, v]]] of r.down) {
    const w = { at, value: secs(v) };
    const prev = m.get(`${k}/${id}`);
    if (prev) expect(prev).toEqual(w); // an at-least-once duplicate of the resume epoch
    else m.set(`${k}/${id}`, w);
  }
  return m;
}

const lateSet = (r: Recorded) => new Set(r.late.map(([at, [k, [id, v]]]) => `${at} ${k}/${id} ${(v as Ev).at - ALIGN}`));

const cases: [string, () => Windower<any>, boolean][] = [
  ['tumbling, ordered', () => new TumblingWindower(5_000, ALIGN), true],
  ['sliding, unordered', () => new SlidingWindower(6_000, 2_000, ALIGN), false],
  ['sessions, ordered', () => new SessionWindower(1_500), true],
  ['sessions, unordered', () => new SessionWindower(1_500), false],
  ['counts, ordered', () => new CountWindower(4), true],
];

describe('recovery', () => {
  for (const [name, windower, ordered] of cases) {
    it(`resumes open windows, queued items and timers after an abort (${name})`, async () => {
      const T0 = Date.UTC(2030, 0, 1);
      const make = (time: FakeTime) => (k: Parameters<Parameters<typeof runWindow>[1]>[0]) =>
        k.pipe(collectWindow('w', new EventClock((e: Ev) => e.at, 3_000, { now: time.now }), windower(), { ordered }));

      const plain = new FakeTime(T0);
      const expected = await runWindow(events(T0), make(plain), { time: plain });

      for (const parts of [1, 3]) {
        const db = tempDb(parts);
        const input: (Ev | TestingMarker)[] = events(T0);
        // Crash twice: in the middle of open windows, and during an idle spell with timers pending.
        input.splice(71, 0, TestingSource.ABORT());
        input.splice(33, 0, TestingSource.ABORT());
        input.splice(17, 0, TestingSource.ABORT());
        const time = new FakeTime(T0);
        const rec: Recorded = { down: [], late: [], meta: [] };
        let runs = 0;
        for (;;) {
          runs++;
          const before = rec.down.length + rec.meta.length;
          await runWindow(input, make(time), { time, dbDir: db, rec });
          if (time.t === input.filter((x): x is Ev => 'sys' in x).at(-1)!.sys) break;
          expect(runs).toBeLessThan(5);
          expect(rec.down.length + rec.meta.length).toBeGreaterThanOrEqual(before);
        }
        expect(runs).toBe(4);
        const got = windows(rec);
        const want = windows(expected);
        expect(want.size).toBeGreaterThan(10);
        expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
        for (const [k, w] of want) expect(got.get(k), k).toEqual(w);
        expect(lateSet(rec)).toEqual(lateSet(expected));
      }
    });
  }
});
