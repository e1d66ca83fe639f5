import { StepError, stepErrorFrom } from '../../errors.js';
import type { Emit } from '../../operators/statefulBatch.js';
import type { KeyedStream } from '../../stream.js';
import type { WindowLogic, WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { window } from './window.js';

/**
 * Options of {@link foldWindow}.
 *
 * ## Example
 * ```ts
 * import type { FoldWindowOptions } from 'weir/windowing';
 * const o: FoldWindowOptions<number> = { merger: (a, b) => a + b, ordered: false };
 * ```
 */
export interface FoldWindowOptions<S> extends WindowOptions {
  /** Combines the accumulators of two windows that merge (sessions). Required with a windower that merges. */
  merger?: (into: S, merged: S) => S;
}

/** The window logic of foldWindow: one accumulator per window. */
export class FoldLogic<V, S> implements WindowLogic<V, S, S> {
  // Declared only, so the field is first written with a real accumulator: a field that starts
  // out `undefined` (as a declared field does) holds numbers boxed, an allocation per item for
  // a sum of doubles.
  private declare acc: S;
  constructor(
    private readonly id: string,
    acc: S,
    private readonly folder: (acc: S, value: V) => S,
    private readonly merger: ((into: S, merged: S) => S) | undefined,
  ) {
    this.acc = acc;
  }
  onValue(value: V): void {
    try {
      this.acc = this.folder(this.acc, value);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the folder', err);
    }
  }
  onMerge(original: WindowLogic<V, S, S>): void {
    try {
      this.acc = this.merger!(this.acc, original.snapshot());
    } catch (err) {
      throw stepErrorFrom(this.id, 'the merger', err);
    }
  }
  onClose(emit: Emit<S>): void {
    emit(this.acc);
  }
  snapshot(): S {
    return this.acc;
  }
}

/**
 * Folds each window's values into an accumulator and emits `[key, [windowId, accumulator]]`
 * when the window closes.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, foldWindow } from 'weir/windowing';
 * const clock = new EventClock((t: { at: number; amount: number }) => t.at, 5_000);
 * const perMinute = trades.pipe(
 *   foldWindow('volume', clock, new TumblingWindower(60_000), () => 0, (sum, t) => sum + t.amount, { merger: (a, b) => a + b }),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param builder makes a new window's empty accumulator
 * @param folder from the accumulator and a value to the new accumulator
 * @param options `merger` for windows that merge (sessions); `ordered` (default true)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function foldWindow<V, S>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  builder: () => S,
  folder: (acc: S, value: V) => S,
  options: FoldWindowOptions<S> = {},
): (up: KeyedStream<V>) => WindowOut<V, S> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    const merger = options.merger;
    if (typeof folder !== 'function') throw new StepError(id, 'the folder must be a function (acc, value) => acc');
    if (windower?.merges && typeof merger !== 'function') {
      throw new StepError(id, 'this windower merges windows (sessions): give foldWindow a merger in its options, e.g. { merger: (a, b) => a + b }');
    }
    return up.pipe(
      window<V, S, S>(
        stepId,
        clock,
        windower,
        (resume) => {
          if (resume !== undefined) return new FoldLogic(id, resume, folder, merger);
          let acc: S;
          try {
            acc = builder();
          } catch (err) {
            throw stepErrorFrom(id, 'the builder', err);
          }
          return new FoldLogic(id, acc, folder, merger);
        },
        { ordered: options.ordered ?? true },
      ),
    );
  };
}
