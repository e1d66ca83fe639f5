/**
 * Windowing: clocks (what time an item belongs to), windowers (which windows a time falls in)
 * and window operators, all built on the core's `statefulBatch`, so open windows survive a crash.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';
 * const clock = new EventClock((e: { at: Date; word: string }) => e.at, 0);
 * const counts = words.pipe(countWindow('counts', clock, new TumblingWindower(5_000, '2024-01-01T00:00:00Z'), (e) => e.word));
 * const { down, late, meta } = counts;
 * ```
 * @module
 */
export type { Clock, ClockLogic, ClockEnv } from './clocks/Clock.js';
export type { Timestamp } from './time.js';
export { SystemClock, type ClockOptions } from './clocks/SystemClock.js';
export { EventClock, type EventClockState } from './clocks/EventClock.js';
export type { Windower, WindowerLogic, WindowMeta } from './windowers/Windower.js';
export { TumblingWindower } from './windowers/TumblingWindower.js';
export { SlidingWindower } from './windowers/SlidingWindower.js';
export { SessionWindower, LATE_SESSION_ID, type SessionState } from './windowers/SessionWindower.js';
export { CountWindower, type CountState } from './windowers/CountWindower.js';
export type { WindowLogic, WindowOptions, WindowOut } from './WindowLogic.js';
export { window } from './operators/window.js';
export { foldWindow, type FoldWindowOptions } from './operators/foldWindow.js';
export { reduceWindow, maxWindow, minWindow } from './operators/reduceWindow.js';
export { countWindow } from './operators/countWindow.js';
export { collectWindow } from './operators/collectWindow.js';
export { joinWindow, type JoinWindowOptions } from './operators/joinWindow.js';
