import { StepError, describeValue } from '../../errors.js';
import { statefulBatch } from '../../operators/statefulBatch.js';
import type { KeyedStream } from '../../stream.js';
import type { WindowLogic, WindowOptions, WindowOut } from '../WindowLogic.js';
import type { Clock } from '../clocks/Clock.js';
import type { Windower } from '../windowers/Windower.js';
import { type BuilderEnv, type Tagged, type WindowConfig, WindowKeyLogic, type WindowKeyState } from './keyLogic.js';
import { splitWindowEvents } from './split.js';

/**
 * The generic window operator: runs a {@link WindowLogic} per window per key.
 *
 * The clock stamps each item and keeps a per-key watermark; the windower assigns the item to
 * windows; a window closes when its close time is at or below the watermark, and its logic's
 * `onClose` runs then. Late items (timestamp below the watermark) are never dropped: they go to
 * `.late`. Every open window, queued item and pending close time is part of the key's snapshot,
 * so after a resume each window closes just as it would have without the crash.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, window, type WindowLogic } from 'weir/windowing';
 * const firstAndLast = (s?: [number, number]): WindowLogic<number, [number, number], [number, number]> => {
 *   let first = s?.[0] ?? NaN;
 *   let last = s?.[1] ?? NaN;
 *   return {
 *     onValue: (v) => { if (Number.isNaN(first)) first = v; last = v; },
 *     onClose: (emit) => emit([first, last]),
 *     snapshot: () => [first, last],
 *   };
 * };
 * const out = readings.pipe(window('fl', new EventClock((v: number) => v, 0), new TumblingWindower(1_000), firstAndLast));
 * ```
 * @param stepId a step id unique in the flow; the state is stored under it
 * @param clock the definition of time
 * @param windower the kind of windows
 * @param builder makes a window's logic, from its stored state after a resume
 * @param options `ordered` (default true): apply values in timestamp order
 * @returns a pipeable operator whose result is `down`, carrying `.down`, `.late` and `.meta`
 */
export function window<V, W, S>(
  stepId: string,
  clock: Clock<V, any>,
  windower: Windower<any>,
  builder: (resumeState: S | undefined) => WindowLogic<V, W, S>,
  options: WindowOptions = {},
): (up: KeyedStream<V>) => WindowOut<V, W> {
  return (up) => {
    const cfg: WindowConfig<V, W, S> = {
      stepId: `${up.flow.id}.${stepId}`,
      clock,
      windower,
      builder,
      ordered: options.ordered ?? true,
    };
    checkParts(cfg.stepId, clock, windower, builder);
    const events = up.pipe(
      statefulBatch<V, Tagged, WindowKeyState>(
        stepId,
        // The second argument is the runtime's clock, where the runtime hands one to builders.
        (resume, env?: BuilderEnv) => new WindowKeyLogic<V, W, S>(cfg, resume, env),
      ),
    );
    return splitWindowEvents<V, W>(stepId, events);
  };
}

function checkParts(stepId: string, clock: Clock<any, any>, windower: Windower<any>, builder: unknown): void {
  if (clock === null || typeof clock !== 'object' || typeof clock.build !== 'function') {
    throw new StepError(stepId, `the clock must be a Clock such as new EventClock(...) or new SystemClock(), got ${describeValue(clock)}`);
  }
  if (windower === null || typeof windower !== 'object' || typeof windower.build !== 'function') {
    throw new StepError(stepId, `the windower must be a Windower such as new TumblingWindower(...), got ${describeValue(windower)}`);
  }
  if (typeof builder !== 'function') throw new StepError(stepId, `the builder must be a function, got ${describeValue(builder)}`);
  clock.check?.(stepId);
  windower.check?.(stepId);
}
