import type { Clock, ClockEnv, ClockLogic } from './Clock.js';

/**
 * Options of {@link SystemClock} and {@link EventClock}.
 *
 * ## Example
 * ```ts
 * import { SystemClock, type ClockOptions } from 'weir/windowing';
 * let t = Date.UTC(2024, 0, 1);
 * const opts: ClockOptions = { now: () => t };
 * const clock = new SystemClock(opts);
 * ```
 */
export interface ClockOptions {
  /**
   * The system time in ms since the Unix epoch. Defaults to the runtime's clock when it provides
   * one to stateful steps, else `Date.now`. Tests inject the same function here and as
   * `runMain`'s `now`, so nothing sleeps.
   */
  now?: () => number;
}

class SystemClockLogic implements ClockLogic<unknown, null> {
  // A number from the start: a field that starts out `undefined` holds its doubles boxed.
  watermark = -Infinity;
  constructor(private readonly now: () => number) {
    this.watermark = now();
  }
  beforeBatch(): void {
    const t = this.now();
    if (t > this.watermark) this.watermark = t; // never backwards, even if the system clock is
  }
  onItem(): number {
    return this.watermark;
  }
  onNotify(): number {
    this.beforeBatch();
    return this.watermark;
  }
  onEof(): number {
    return Infinity;
  }
  toSystem(eventTime: number): number {
    return eventTime;
  }
  snapshot(): null {
    return null;
  }
}

/**
 * Stamps every item with the system time at which it is processed; the watermark is that time.
 *
 * No item is ever late. Windows close as system time passes them, and every window closes at
 * the end of input.
 *
 * ## Example
 * ```ts
 * import { SystemClock, TumblingWindower, countWindow } from 'weir/windowing';
 * const perSecond = words.pipe(countWindow('per_second', new SystemClock(), new TumblingWindower(1_000), (w: string) => w));
 * ```
 */
export class SystemClock implements Clock<unknown, null> {
  /** @param options `now`: the system time source, for tests */
  constructor(readonly options: ClockOptions = {}) {}

  /**
   * @param _resume unused: the system clock keeps no state
   * @param env the step and the runtime's time source
   * @returns the key's clock logic
   */
  build(_resume: null | undefined, env: ClockEnv): ClockLogic<unknown, null> {
    return new SystemClockLogic(this.options.now ?? env.now);
  }
}
