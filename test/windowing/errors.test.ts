import { describe, expect, it } from 'vitest';
import { Dataflow, StepError } from 'weir';
import * as op from 'weir/operators';
import { TestingSource } from 'weir/testing';
import {
  CountWindower,
  EventClock,
  SessionWindower,
  SlidingWindower,
  TumblingWindower,
  type Windower,
  collectWindow,
  foldWindow,
  window,
} from 'weir/windowing';
import { type Ev, FakeTime, ev, runWindow } from './support.js';

/** Adds a collectWindow with this windower and clock to a flow; returns what it throws. */
function buildError(windower: Windower<any>, clock = new EventClock((e: Ev) => e.at, 0)): StepError {
  const flow = new Dataflow('bad');
  const keyed = flow.pipe(op.input('in', new TestingSource<Ev>([])), op.keyOn('k', (e: Ev) => e.key));
  try {
    keyed.pipe(collectWindow('win', clock, windower));
  } catch (err) {
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).stepId).toBe('bad.win');
    return err as StepError;
  }
  throw new Error('expected an error');
}

async function runError(getter: (e: Ev) => unknown): Promise<StepError> {
  const time = new FakeTime();
  const err = await runWindow([ev('a', 0), ev('k1', 1)], (k) => k.pipe(collectWindow('win', new EventClock(getter as never, 0, { now: time.now }), new TumblingWindower(1_000))), { time }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepError);
  return err as StepError;
}

describe('bad input', () => {
  it('a timestamp that is not a Date or a finite number names the step and the key', async () => {
    for (const [bad, described] of [
      ['2024-01-01T00:00:00Z', 'the string'],
      [Number.NaN, 'number NaN'],
      [Infinity, 'number Infinity'],
      [undefined, 'undefined'],
      [{ at: 1 }, 'an object'],
    ] as const) {
      const err = await runError((e) => (e.key === 'k1' ? bad : e.at));
      expect(err.message).toContain("step 'w.win', key \"k1\"");
      expect(err.message).toContain('must return a Date or a finite number');
      expect(err.message).toContain(described);
    }
    const invalid = await runError((e) => (e.key === 'k1' ? new Date('nope') : e.at));
    expect(invalid.message).toMatch(/step 'w\.win', key "k1": the tsGetter returned an invalid Date/);
  });

  it('a tsGetter that throws names the step', async () => {
    const err = await runError(() => {
      throw new Error('no timestamp here');
    });
    expect(err.message).toBe("step 'w.win', key \"a\": the tsGetter threw: no timestamp here");
  });

  it('a window length of 0 or less is refused, naming the step', () => {
    expect(buildError(new TumblingWindower(0)).message).toBe("step 'bad.win': TumblingWindower length must be a finite number of ms greater than 0, got number 0");
    expect(buildError(new TumblingWindower(-5)).message).toContain('TumblingWindower length must be');
    expect(buildError(new SlidingWindower(0, 0)).message).toContain('SlidingWindower length must be');
    expect(buildError(new SlidingWindower(10, -1)).message).toContain('SlidingWindower offset must be');
    expect(buildError(new SessionWindower(0)).message).toContain('SessionWindower gap must be');
    expect(buildError(new CountWindower(0)).message).toContain('CountWindower count must be an integer >= 1');
    expect(buildError(new CountWindower(1.5)).message).toContain('CountWindower count must be an integer >= 1');
  });

  it('an offset longer than the length is refused', () => {
    expect(buildError(new SlidingWindower(5_000, 6_000)).message).toContain('SlidingWindower offset (6000 ms) must not be larger than length (5000 ms)');
  });

  it('an alignTo given as a local-time string is refused with a clear error', () => {
    for (const local of ['2024-01-01T00:00:00', '2024-01-01 00:00', '2024-01-01']) {
      const msg = buildError(new TumblingWindower(60_000, local)).message;
      expect(msg).toContain("step 'bad.win': TumblingWindower alignTo");
      expect(msg).toContain("is a local time");
      expect(msg).toContain("add 'Z' or an offset");
    }
    expect(buildError(new SlidingWindower(60_000, 1_000, '2024-01-01T00:00:00')).message).toContain('is a local time');
    expect(buildError(new TumblingWindower(60_000, 'yesterday')).message).toContain('is not an ISO 8601 timestamp with a zone');
    expect(buildError(new TumblingWindower(60_000, Number.NaN)).message).toContain('alignTo must be a finite number');
  });

  it('a negative wait is refused', () => {
    expect(buildError(new TumblingWindower(1_000), new EventClock((e: Ev) => e.at, -1)).message).toContain('EventClock waitForSystemDuration must be a finite number of ms >= 0');
  });

  it('foldWindow over sessions needs a merger', () => {
    const flow = new Dataflow('bad');
    const keyed = flow.pipe(op.input('in', new TestingSource<Ev>([])), op.keyOn('k', (e: Ev) => e.key));
    expect(() => keyed.pipe(foldWindow('f', new EventClock((e: Ev) => e.at, 0), new SessionWindower(1_000), () => 0, (n) => n + 1))).toThrow(
      /step 'bad\.f': this windower merges windows \(sessions\): give foldWindow a merger/,
    );
  });

  it('a custom logic without onMerge fails when sessions merge, naming the step', async () => {
    const time = new FakeTime();
    const err = await runWindow([ev('a', 0), ev('a', 10), ev('a', 5)], (k) =>
      k.pipe(window('win', new EventClock((e: Ev) => e.at, 10_000, { now: time.now }), new SessionWindower(6_000), () => ({ onValue() {}, onClose() {}, snapshot: () => null }), { ordered: false })),
    { time }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toContain("step 'w.win', key \"a\": windows 1 and 0 merged, but the window logic has no onMerge()");
  });

  it('a builder that returns no logic is reported', async () => {
    const time = new FakeTime();
    const err = await runWindow([ev('a', 0)], (k) => k.pipe(window('win', new EventClock((e: Ev) => e.at, 0, { now: time.now }), new TumblingWindower(1_000), () => 42 as never)), { time }).catch((e: unknown) => e);
    expect((err as StepError).message).toContain('the window builder must return a logic with onValue(), onClose() and snapshot(), got number 42');
  });
});
