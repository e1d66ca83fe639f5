import { keyOn } from '../../operators/keyOn.js';
import type { KeyedStream, Stream } from '../../stream.js';
import type { WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { foldWindow } from './foldWindow.js';

/**
 * Counts items per key per window, emitting `[key, [windowId, count]]` when a window closes.
 * Takes an unkeyed stream and keys it with `keyFn`.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';
 * const clock = new EventClock((w: { at: Date; word: string }) => w.at, 0);
 * const counts = words.pipe(countWindow('c', clock, new TumblingWindower(5_000), (w) => w.word));
 * const { down, late, meta } = counts;
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time, over the unkeyed items
 * @param windower the kind of windows
 * @param keyFn from an item to the string key it is counted under
 * @param options `ordered` (default false: counting does not depend on order)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function countWindow<T>(
  stepId: string,
  clock: Clock<T, any>,
  windower: Windower<any>,
  keyFn: (item: T) => string,
  options: WindowOptions = {},
): (up: Stream<T>) => WindowOut<T, number> {
  return (up) =>
    (up.pipe(keyOn(`${stepId}/key`, keyFn)) as KeyedStream<T>).pipe(
      foldWindow<T, number>(stepId, clock, windower, () => 0, (n) => n + 1, {
        merger: (a, b) => a + b,
        ordered: options.ordered ?? false,
      }),
    );
}
