import { StepError, stepErrorFrom } from '../../errors.js';
import type { Emit } from '../../operators/statefulBatch.js';
import type { KeyedStream } from '../../stream.js';
import type { WindowLogic, WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { window } from './window.js';

/** The window logic of reduceWindow; its state is `[value]`, or `[]` before the first value. */
class ReduceLogic<V> implements WindowLogic<V, V, [V] | []> {
  private has: boolean;
  private acc: V;
  constructor(
    private readonly id: string,
    private readonly reducer: (a: V, b: V) => V,
    resume: [V] | [] | undefined,
  ) {
    this.has = resume !== undefined && resume.length === 1;
    this.acc = resume?.[0] as V;
  }
  onValue(value: V): void {
    if (!this.has) {
      this.acc = value;
      this.has = true;
      return;
    }
    try {
      this.acc = this.reducer(this.acc, value);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the reducer', err);
    }
  }
  onMerge(original: WindowLogic<V, V, [V] | []>): void {
    const other = original.snapshot();
    if (other.length === 1) this.onValue(other[0]);
  }
  onClose(emit: Emit<V>): void {
    if (this.has) emit(this.acc);
  }
  snapshot(): [V] | [] {
    return this.has ? [this.acc] : [];
  }
}

/**
 * Combines each window's values pairwise and emits `[key, [windowId, result]]` when the window
 * closes. The reducer also merges windows (sessions).
 *
 * ## Example
 * ```ts
 * import { SystemClock, TumblingWindower, reduceWindow } from 'weir/windowing';
 * const sums = keyed.pipe(reduceWindow('sum', new SystemClock(), new TumblingWindower(10_000), (a: number, b: number) => a + b));
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param reducer combines two values into one
 * @param options `ordered` (default false, as in Bytewax)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function reduceWindow<V>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  reducer: (a: V, b: V) => V,
  options: WindowOptions = {},
): (up: KeyedStream<V>) => WindowOut<V, V> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    if (typeof reducer !== 'function') throw new StepError(id, 'the reducer must be a function (a, b) => value');
    return up.pipe(
      window<V, V, [V] | []>(stepId, clock, windower, (resume) => new ReduceLogic(id, reducer, resume), {
        ordered: options.ordered ?? false,
      }),
    );
  };
}

/**
 * Emits the largest value of each window, as `[key, [windowId, value]]`, when it closes.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, maxWindow } from 'weir/windowing';
 * const clock = new EventClock((r: { at: number; temp: number }) => r.at, 0);
 * const hottest = readings.pipe(maxWindow('hottest', clock, new TumblingWindower(3_600_000), (r) => r.temp));
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param by the number or string to compare values by; the value itself by default
 * @param options `ordered` (default false)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function maxWindow<V>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  by: (value: V) => number | string | bigint = (v) => v as never,
  options: WindowOptions = {},
): (up: KeyedStream<V>) => WindowOut<V, V> {
  return reduceWindow<V>(stepId, clock, windower, (a, b) => (by(b) > by(a) ? b : a), options);
}

/**
 * Emits the smallest value of each window, as `[key, [windowId, value]]`, when it closes.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, minWindow } from 'weir/windowing';
 * const clock = new EventClock((r: { at: number; temp: number }) => r.at, 0);
 * const coldest = readings.pipe(minWindow('coldest', clock, new TumblingWindower(3_600_000), (r) => r.temp));
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param by the number or string to compare values by; the value itself by default
 * @param options `ordered` (default false)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function minWindow<V>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  by: (value: V) => number | string | bigint = (v) => v as never,
  options: WindowOptions = {},
): (up: KeyedStream<V>) => WindowOut<V, V> {
  return reduceWindow<V>(stepId, clock, windower, (a, b) => (by(b) < by(a) ? b : a), options);
}
