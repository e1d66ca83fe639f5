/**
 * What is known about a window when it closes: its bounds, in ms since the Unix epoch, and for
 * a session the ids of the sessions merged into it.
 *
 * Windows open inclusive and close exclusive: `[openTime, closeTime)`.
 *
 * ## Example
 * ```ts
 * import type { WindowMeta } from 'weir/windowing';
 * const m: WindowMeta = { openTime: 0, closeTime: 60_000 };
 * ```
 */
export interface WindowMeta {
  /** When the window opens (inclusive). */
  openTime: number;
  /** When the window closes (exclusive). It closes once the watermark reaches this time. */
  closeTime: number;
  /** Ids of the windows merged into this one (sessions only). */
  mergedIds?: number[];
}

/**
 * The per-key logic of a {@link Windower}: assigns timestamps to window ids, and says which
 * windows merge and which close.
 *
 * Window ids are written into a reused array passed in (`ids[0]`, `ids[1]`, ...) and counted
 * in the return value, so the per-item path allocates nothing.
 *
 * ## Example
 * ```ts
 * import type { WindowerLogic, WindowMeta } from 'weir/windowing';
 * // One window per calendar year (UTC), closing at the watermark.
 * class Yearly implements WindowerLogic<number[]> {
 *   private open = new Set<number>();
 *   openFor(ts: number, ids: number[]) { const y = new Date(ts).getUTCFullYear(); this.open.add(y); ids[0] = y; return 1; }
 *   lateFor(ts: number, ids: number[]) { ids[0] = new Date(ts).getUTCFullYear(); return 1; }
 *   takeMerged() { return []; }
 *   closeFor(wm: number, closed: [number, WindowMeta][]) {
 *     for (const y of this.open) {
 *       const closeTime = Date.UTC(y + 1, 0, 1);
 *       if (closeTime <= wm) { this.open.delete(y); closed.push([y, { openTime: Date.UTC(y, 0, 1), closeTime }]); }
 *     }
 *   }
 *   notifyAt() { return this.open.size ? Math.min(...[...this.open].map((y) => Date.UTC(y + 1, 0, 1))) : undefined; }
 *   isEmpty() { return this.open.size === 0; }
 *   snapshot() { return [...this.open]; }
 * }
 * ```
 */
export interface WindowerLogic<S> {
  /**
   * Opens, or finds, the windows an on-time item belongs to.
   * @param ts the item's timestamp
   * @param ids receives the window ids from index 0 on; its length is not meaningful
   * @returns how many ids were written
   */
  openFor(ts: number, ids: number[]): number;
  /**
   * The windows a late item would have belonged to.
   * @param ts the item's timestamp
   * @param ids receives the window ids from index 0 on; its length is not meaningful
   * @returns how many ids were written
   */
  lateFor(ts: number, ids: number[]): number;
  /**
   * Merges since the last call, as `[mergedId, intoId]` pairs, in order.
   * @returns the pairs; an empty array when none
   */
  takeMerged(): readonly (readonly [number, number])[];
  /**
   * Closes every window whose close time is at or below the watermark.
   * @param watermark the clock's watermark
   * @param closed receives `[windowId, meta]` for each closed window, oldest first
   */
  closeFor(watermark: number, closed: [number, WindowMeta][]): void;
  /** The earliest close time of an open window, on the clock's time line; `undefined` when none. */
  notifyAt(): number | undefined;
  /** Whether the key's windower state can be dropped. */
  isEmpty(): boolean;
  /** The state to keep for a resume. Plain data. */
  snapshot(): S;
}

/**
 * A kind of window: builds one {@link WindowerLogic} per key.
 *
 * ## Example
 * ```ts
 * import { SessionWindower, SlidingWindower, TumblingWindower, type Windower } from 'weir/windowing';
 * const w: Windower = new TumblingWindower(60_000, '2024-01-01T00:00:00Z');
 * ```
 */
export interface Windower<S = unknown> {
  /** True when windows of this kind can merge, so the window logic needs `onMerge`. */
  readonly merges?: boolean;
  /**
   * Builds a key's windower logic.
   * @param resumeState the state from the logic's last snapshot, or `undefined`
   * @returns the logic
   */
  build(resumeState: S | undefined): WindowerLogic<S>;
  /**
   * Checks the windower's arguments when a window operator is added to a flow.
   * @param stepId the full id of the window step, to name in errors
   */
  check?(stepId: string): void;
}

/** The empty merge list, shared. */
export const NO_MERGES: readonly (readonly [number, number])[] = Object.freeze([]);
