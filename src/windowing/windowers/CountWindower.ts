import { StepError, WeirError, describeValue } from '../../errors.js';
import { LATE_SESSION_ID } from './SessionWindower.js';
import { NO_MERGES, type WindowMeta, type Windower, type WindowerLogic } from './Windower.js';

/**
 * The stored state of a {@link CountWindower}'s logic.
 *
 * ## Example
 * ```ts
 * import type { CountState } from 'weir/windowing';
 * const s: CountState = { id: 3, n: 1, openTime: 0, lastTime: 0 };
 * ```
 */
export interface CountState {
  /** The id of the window being filled. */
  id: number;
  /** Items in it so far. */
  n: number;
  /** Timestamp of its first item. */
  openTime: number;
  /** Timestamp of its last item. */
  lastTime: number;
}

class CountLogic implements WindowerLogic<CountState> {
  private id = 0;
  private n = 0;
  private openTime = 0;
  private lastTime = 0;
  private readonly full: [number, WindowMeta][] = [];

  constructor(
    private readonly count: number,
    resume: CountState | undefined,
  ) {
    if (resume) ({ id: this.id, n: this.n, openTime: this.openTime, lastTime: this.lastTime } = resume);
  }

  openFor(ts: number, ids: number[]): number {
    if (this.n === 0) this.openTime = ts;
    this.lastTime = ts;
    ids[0] = this.id;
    if (++this.n === this.count) {
      this.full.push([this.id, { openTime: this.openTime, closeTime: ts }]);
      this.id++;
      this.n = 0;
    }
    return 1;
  }

  lateFor(_ts: number, ids: number[]): number {
    ids[0] = LATE_SESSION_ID;
    return 1;
  }

  takeMerged(): readonly (readonly [number, number])[] {
    return NO_MERGES;
  }

  closeFor(watermark: number, closed: [number, WindowMeta][]): void {
    for (let i = 0; i < this.full.length; i++) closed.push(this.full[i]!);
    this.full.length = 0;
    if (watermark === Infinity && this.n > 0) {
      closed.push([this.id, { openTime: this.openTime, closeTime: this.lastTime }]);
      this.id++;
      this.n = 0;
    }
  }

  notifyAt(): undefined {
    return undefined;
  }

  /** Never empty: the key keeps counting window ids. */
  isEmpty(): boolean {
    return false;
  }

  snapshot(): CountState {
    return { id: this.id, n: this.n, openTime: this.openTime, lastTime: this.lastTime };
  }
}

/**
 * Count windows: every `count` items of a key make a window (Flink's and Quix's count windows;
 * Bytewax has none).
 *
 * Window ids count up from 0 per key. A window closes as soon as it holds `count` items; a
 * partial window closes at the end of input. Items are counted in the order they are applied:
 * timestamp order with `ordered`, else arrival order. The meta's `openTime` and `closeTime` are
 * the timestamps of the window's first and last item. With an {@link EventClock}, late items
 * go to `.late` with id {@link LATE_SESSION_ID}; with a {@link SystemClock} none is late.
 *
 * ## Example
 * ```ts
 * import { CountWindower, SystemClock, collectWindow } from 'weir/windowing';
 * const batchesOf100 = keyed.pipe(collectWindow('hundreds', new SystemClock(), new CountWindower(100)));
 * ```
 */
export class CountWindower implements Windower<CountState> {
  private readonly problem: string | undefined;

  /** @param count items per window, an integer >= 1 */
  constructor(readonly count: number) {
    this.problem =
      Number.isInteger(count) && count >= 1 ? undefined : `CountWindower count must be an integer >= 1, got ${describeValue(count)}`;
  }

  /**
   * Throws a {@link StepError} naming the step if the count is invalid.
   * @param stepId the window step's full id
   */
  check(stepId: string): void {
    if (this.problem) throw new StepError(stepId, this.problem);
  }

  /**
   * @param resume the key's stored count, or `undefined`
   * @returns the key's windower logic
   */
  build(resume: CountState | undefined): WindowerLogic<CountState> {
    if (this.problem) throw new WeirError(this.problem);
    return new CountLogic(this.count, resume);
  }
}
