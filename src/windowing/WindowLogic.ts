import type { Emit } from '../operators/statefulBatch.js';
import type { KeyedStream } from '../stream.js';
import type { WindowMeta } from './windowers/Windower.js';

/**
 * The logic of one window of one key, for the generic {@link window} operator.
 *
 * A builder makes one per window when the window opens (or from its snapshot after a resume).
 * Each hook emits values through `emit`; they go downstream as `[key, [windowId, value]]`.
 *
 * ## Example
 * ```ts
 * import type { WindowLogic } from 'weir/windowing';
 * // Emits the running sum on every value, and the total when the window closes.
 * class Sum implements WindowLogic<number, number, number> {
 *   constructor(private sum = 0) {}
 *   onValue(v: number, emit: (w: number) => void) { this.sum += v; emit(this.sum); }
 *   onMerge(other: WindowLogic<number, number, number>) { this.sum += other.snapshot(); }
 *   onClose(emit: (w: number) => void) { emit(this.sum); }
 *   snapshot() { return this.sum; }
 * }
 * ```
 */
export interface WindowLogic<V, W, S> {
  /**
   * Called for each value that falls in the window: in timestamp order with `ordered`, else in
   * arrival order.
   */
  onValue(value: V, emit: Emit<W>): void;
  /**
   * Called when another window of the key merges into this one (sessions); `original` is
   * dropped afterwards. Needed only with windowers that merge.
   */
  onMerge?(original: WindowLogic<V, W, S>, emit: Emit<W>): void;
  /** Called once when the window closes. */
  onClose(emit: Emit<W>): void;
  /** The state to keep for a resume. Plain data. */
  snapshot(): S;
}

/**
 * Options of the window operators.
 *
 * ## Example
 * ```ts
 * import type { WindowOptions } from 'weir/windowing';
 * const o: WindowOptions = { ordered: false };
 * ```
 */
export interface WindowOptions {
  /**
   * Apply on-time values in timestamp order: each is held until the watermark passes its
   * timestamp. Costs latency and memory. Without it, values are applied in arrival order.
   */
  ordered?: boolean;
}

/**
 * The streams of a window operator: `down` itself, carrying `.down`, `.late` and `.meta`.
 *
 * - `down`: `[key, [windowId, value]]`, what the window logic emits;
 * - `late`: `[key, [windowId, item]]`, each late item with every window id it was late for;
 * - `meta`: `[key, [windowId, meta]]`, once per window when it closes (not for a session that
 *   was merged into another).
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';
 * const counts = words.pipe(countWindow('c', new EventClock((w: { at: number }) => w.at, 0), new TumblingWindower(5_000), () => 'all'));
 * const { down, late, meta } = counts;
 * ```
 */
export type WindowOut<V, W> = KeyedStream<[number, W]> & {
  /** The stream itself: what the windows emit. */
  readonly down: KeyedStream<[number, W]>;
  /** Late items, with the window ids they were late for. */
  readonly late: KeyedStream<[number, V]>;
  /** Metadata of each window as it closes. */
  readonly meta: KeyedStream<[number, WindowMeta]>;
};
