import { StepError, WeirError } from '../../errors.js';
import { type Timestamp, checkPositive, parseAlignTo } from '../time.js';
import { NO_MERGES, type WindowMeta, type Windower, type WindowerLogic } from './Windower.js';

/**
 * Logic of sliding and tumbling windows: window `id` is `[alignTo + id*offset, + length)`.
 *
 * A window's close time grows with its id, so the open ids are kept in an ascending array and the
 * windows that close are always a prefix of it: no set and no sort. A run of items in one
 * tumbling window costs two comparisons each.
 */
export class SlidingLogic implements WindowerLogic<number[]> {
  /** Ids of the open windows, ascending. */
  private readonly open: number[] = [];
  /** Close time of `open[0]`; Infinity when none is open. */
  private minClose = Infinity;
  /** Whether window NaN is open: a custom clock gave a NaN timestamp. It never closes. */
  private nanOpen = false;
  /**
   * Tumbling: the last id opened, and a range of timestamps known to fall in it, so a run of
   * items in one window costs two comparisons (no division, no lookup).
   */
  private lastId = NaN;
  private lastLo = Infinity;
  private lastHi = -Infinity;
  // Numbers from the start, not parameter properties: a field that starts out `undefined` holds
  // its doubles boxed.
  private readonly length: number = 0;
  private readonly offset: number = 0;
  private readonly align: number = 0;

  constructor(length: number, offset: number, align: number, resume: number[] | undefined) {
    this.length = length;
    this.offset = offset;
    this.align = align;
    if (resume) for (const id of resume) this.add(id);
  }

  /** Opens window `id` unless it is open. */
  private add(id: number): void {
    if (id !== id) {
      this.nanOpen = true;
      return;
    }
    if (id === 0) id = 0; // -0 is kept as 0, as a set would
    const open = this.open;
    const n = open.length;
    if (n === 0 || open[n - 1]! < id) {
      open.push(id);
    } else {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (open[mid]! < id) lo = mid + 1;
        else hi = mid;
      }
      if (open[lo] === id) return;
      open.splice(lo, 0, id);
    }
    const close = this.align + id * this.offset + this.length;
    if (close < this.minClose) this.minClose = close;
  }

  openFor(ts: number, ids: number[]): number {
    if (this.offset === this.length) {
      if (ts >= this.lastLo && ts <= this.lastHi) {
        ids[0] = this.lastId;
        return 1;
      }
      const id = this.idOf(ts);
      if (id !== this.lastId) {
        this.add(id);
        this.lastId = id;
      }
      this.cover(id, ts);
      ids[0] = id;
      return 1;
    }
    const since = ts - this.align;
    const last = Math.floor(since / this.offset);
    let n = 0;
    for (let id = Math.floor((since - this.length) / this.offset) + 1; id <= last; id++) {
      this.add(id);
      ids[n++] = id;
    }
    return n;
  }

  /** The last window that contains `ts`; the one formula all ids come from. */
  private idOf(ts: number): number {
    return Math.floor((ts - this.align) / this.offset);
  }

  /**
   * Sets the range of timestamps known to give `id`, from `ts` (which gives it) to the window's
   * bounds where those give it too. `idOf` never decreases as `ts` grows, so every timestamp
   * between two that give `id` gives `id`: the range is exact, rounding included.
   */
  private cover(id: number, ts: number): void {
    if (id === 0) {
      // A timestamp a hair below alignTo gives -0 (the quotient rounds to -0), one at or above
      // it gives 0: no range for window 0, so each id keeps the sign the formula gives.
      this.lastLo = Infinity;
      this.lastHi = -Infinity;
      return;
    }
    const start = this.align + id * this.offset;
    const end = start + this.offset;
    const belowEnd = end - Math.abs(end) * 2 * Number.EPSILON;
    this.lastLo = start < ts && this.idOf(start) === id ? start : ts;
    this.lastHi = belowEnd > ts && this.idOf(belowEnd) === id ? belowEnd : ts;
  }

  lateFor(ts: number, ids: number[]): number {
    const since = ts - this.align;
    const last = Math.floor(since / this.offset);
    let n = 0;
    for (let id = Math.floor((since - this.length) / this.offset) + 1; id <= last; id++) ids[n++] = id;
    return n;
  }

  takeMerged(): readonly (readonly [number, number])[] {
    return NO_MERGES;
  }

  closeFor(watermark: number, closed: [number, WindowMeta][]): void {
    if (watermark < this.minClose) return;
    const open = this.open;
    const n = open.length;
    let k = 0;
    let min = Infinity;
    for (; k < n; k++) {
      const id = open[k]!;
      const openTime = this.align + id * this.offset;
      const closeTime = openTime + this.length;
      if (closeTime > watermark) {
        min = closeTime;
        break;
      }
      closed.push([id, { openTime, closeTime }]);
    }
    // Drop the closed prefix in place (cheaper than splice for the few ids a key has open).
    for (let i = k; i < n; i++) open[i - k] = open[i]!;
    for (let i = 0; i < k; i++) open.pop();
    this.minClose = min;
    this.lastId = NaN;
    this.lastLo = Infinity;
    this.lastHi = -Infinity;
  }

  notifyAt(): number | undefined {
    return this.minClose === Infinity ? undefined : this.minClose;
  }

  isEmpty(): boolean {
    return this.open.length === 0 && !this.nanOpen;
  }

  snapshot(): number[] {
    const ids = this.open.slice();
    if (this.nanOpen) ids.push(NaN);
    return ids;
  }
}

/**
 * Fixed-length windows that start every `offset` ms and may overlap.
 *
 * Window `id` covers `[alignTo + id*offset, alignTo + id*offset + length)`, so ids count from
 * the aligned origin (and are negative before it). With `offset < length` an item falls in
 * `length / offset` windows; with `offset == length` this is a {@link TumblingWindower}. An
 * offset larger than the length would leave gaps, and is refused.
 *
 * Invalid arguments are reported, naming the step, when the windower is given to a window
 * operator.
 *
 * ## Example
 * ```ts
 * import { EventClock, SlidingWindower, countWindow } from 'weir/windowing';
 * // 10-minute windows every minute, aligned to midnight UTC.
 * const windower = new SlidingWindower(600_000, 60_000, '2024-01-01T00:00:00Z');
 * const counts = events.pipe(countWindow('c', new EventClock((e: { at: number }) => e.at, 0), windower, () => 'all'));
 * ```
 */
export class SlidingWindower implements Windower<number[]> {
  /** The origin in ms since the Unix epoch; `NaN` when `alignTo` was invalid. */
  readonly align: number;
  private readonly problem: string | undefined;

  /**
   * @param length window length in ms, > 0
   * @param offset ms between the starts of consecutive windows, > 0 and <= `length`
   * @param alignTo an instant at which a window starts: a `Date`, ms since the Unix epoch, or an
   *   ISO 8601 string with a zone (`Z` or `+hh:mm`); a local-time string is refused. Default 0.
   */
  constructor(
    readonly length: number,
    readonly offset: number,
    alignTo: Timestamp | string = 0,
  ) {
    const a = parseAlignTo('SlidingWindower', alignTo);
    this.align = typeof a === 'number' ? a : NaN;
    this.problem =
      checkPositive('SlidingWindower', 'length', length) ??
      checkPositive('SlidingWindower', 'offset', offset) ??
      (offset > length
        ? `SlidingWindower offset (${offset} ms) must not be larger than length (${length} ms): there would be gaps between windows where items are lost`
        : undefined) ??
      (typeof a === 'string' ? a : undefined);
  }

  /**
   * Throws a {@link StepError} naming the step if an argument is invalid.
   * @param stepId the window step's full id
   */
  check(stepId: string): void {
    if (this.problem) throw new StepError(stepId, this.problem);
  }

  /**
   * @param resume the ids of the key's open windows, or `undefined`
   * @returns the key's windower logic
   */
  build(resume: number[] | undefined): WindowerLogic<number[]> {
    if (this.problem) throw new WeirError(this.problem);
    return new SlidingLogic(this.length, this.offset, this.align, resume);
  }
}
