/**
 * What a window step gives a clock when it builds the clock's logic for a key.
 *
 * ## Example
 * ```ts
 * import type { ClockEnv } from 'weir/windowing';
 * const env: ClockEnv = { stepId: 'flow.counts', now: () => Date.now() };
 * ```
 */
export interface ClockEnv {
  /** The full id of the window step, for error messages. */
  readonly stepId: string;
  /**
   * The system time in ms since the Unix epoch: the runtime's clock when the runtime provides
   * one, else `Date.now`. A clock's own `now` option takes precedence.
   */
  readonly now: () => number;
}

/**
 * The per-key logic of a {@link Clock}: gives each item its timestamp and keeps the watermark.
 *
 * Times are ms since the Unix epoch. An item is late when its timestamp is below the watermark
 * current when it is seen. The watermark never moves backwards.
 *
 * ## Example
 * ```ts
 * import type { ClockLogic } from 'weir/windowing';
 * // Every item is stamped with the number it carries; the watermark follows the largest one.
 * class MaxClock implements ClockLogic<number, number> {
 *   watermark = -Infinity;
 *   beforeBatch() {}
 *   onItem(v: number) { if (v > this.watermark) this.watermark = v; return v; }
 *   onNotify() { return this.watermark; }
 *   onEof() { return Infinity; }
 *   toSystem() { return undefined; }
 *   snapshot() { return this.watermark; }
 * }
 * ```
 */
export interface ClockLogic<V, S> {
  /** The watermark after the last `beforeBatch`, `onItem` or `onNotify`. */
  readonly watermark: number;
  /** Called once before each batch of a key's items: a place to read the system time once. */
  beforeBatch(): void;
  /**
   * The timestamp of `value`; also advances `watermark`.
   * @param value the item's value
   * @returns its timestamp in ms
   */
  onItem(value: V): number;
  /**
   * Called when a timer fires.
   * @returns the watermark now
   */
  onNotify(): number;
  /**
   * Called when the input has ended.
   * @returns the final watermark, usually `Infinity` so every window closes
   */
  onEof(): number;
  /**
   * The system time at which the watermark will reach `eventTime`, so the runtime can wake up
   * to close windows; `undefined` when it cannot tell.
   * @param eventTime a time on this clock
   * @returns ms since the Unix epoch, or `undefined`
   */
  toSystem(eventTime: number): number | undefined;
  /** The state to keep for a resume. Plain data. */
  snapshot(): S;
}

/**
 * A definition of time for window operators: it builds one {@link ClockLogic} per key.
 *
 * ## Example
 * ```ts
 * import { EventClock, SystemClock, type Clock } from 'weir/windowing';
 * const byArrival: Clock<unknown> = new SystemClock();
 * const byEventTime: Clock<{ at: Date }> = new EventClock((e: { at: Date }) => e.at, 5_000);
 * ```
 */
export interface Clock<V, S = unknown> {
  /**
   * Builds a key's clock logic.
   * @param resumeState the state from the logic's last snapshot, or `undefined`
   * @param env the step id and the system time source
   * @returns the logic
   */
  build(resumeState: S | undefined, env: ClockEnv): ClockLogic<V, S>;
  /**
   * Checks the clock's arguments when a window operator is added to a flow.
   * @param stepId the full id of the window step, to name in errors
   */
  check?(stepId: string): void;
}
