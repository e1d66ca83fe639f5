import type { KeyedStream } from '../../stream.js';
import type { WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { foldWindow } from './foldWindow.js';

/**
 * Collects each window's values into an array, emitting `[key, [windowId, values]]` when the
 * window closes. Merged sessions concatenate, the earlier session first.
 *
 * ## Example
 * ```ts
 * import { EventClock, SessionWindower, collectWindow } from 'weir/windowing';
 * const clock = new EventClock((c: { at: number; page: string }) => c.at, 1_000);
 * const visits = clicksByUser.pipe(collectWindow('visits', clock, new SessionWindower(30 * 60_000)));
 * ```
 * @param stepId a step id unique in the flow
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param options `ordered` (default true: values in timestamp order)
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function collectWindow<V>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  options: WindowOptions = {},
): (up: KeyedStream<V>) => WindowOut<V, V[]> {
  return foldWindow<V, V[]>(
    stepId,
    clock,
    windower,
    () => [],
    (acc, v) => {
      acc.push(v);
      return acc;
    },
    { merger: (a, b) => a.concat(b), ordered: options.ordered ?? true },
  );
}
