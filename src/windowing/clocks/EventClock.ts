import { StepError, WeirError, describeValue, stepErrorFrom } from '../../errors.js';
import { type Timestamp, toEventTime } from '../time.js';
import type { Clock, ClockEnv, ClockLogic } from './Clock.js';
import type { ClockOptions } from './SystemClock.js';

/**
 * The stored state of an {@link EventClock}'s logic.
 *
 * ## Example
 * ```ts
 * import type { EventClockState } from 'weir/windowing';
 * const s: EventClockState = { base: 1_000, sysAtBase: Date.UTC(2024, 0, 1) };
 * ```
 */
export interface EventClockState {
  /** The largest event time seen minus the wait; `-Infinity` before any item. */
  base: number;
  /** The system time at which `base` was last raised. */
  sysAtBase: number;
}

class EventClockLogic<V> implements ClockLogic<V, EventClockState> {
  // Number fields get a number where they are declared: a field that starts out `undefined`
  // (as a declared field without initializer does) boxes every double stored in it, which
  // costs an allocation per item.
  watermark = -Infinity;
  private sysNow = 0;
  private base = -Infinity;
  private sysAtBase = 0;

  constructor(
    private readonly stepId: string,
    private readonly getter: (value: V) => Timestamp,
    private readonly wait: number,
    private readonly now: () => number,
    resume: EventClockState | undefined,
  ) {
    this.sysNow = now();
    this.base = resume ? resume.base : -Infinity;
    this.sysAtBase = resume ? resume.sysAtBase : this.sysNow;
    if (this.sysNow < this.sysAtBase) this.sysNow = this.sysAtBase;
    this.watermark = this.base + (this.sysNow - this.sysAtBase);
  }

  beforeBatch(): void {
    const t = this.now();
    if (t > this.sysNow) this.sysNow = t; // system time never goes backwards here
    this.watermark = this.base + (this.sysNow - this.sysAtBase);
  }

  onItem(value: V): number {
    let raw: Timestamp;
    try {
      raw = this.getter(value);
    } catch (err) {
      throw stepErrorFrom(this.stepId, 'the tsGetter', err);
    }
    const ts = typeof raw === 'number' && raw - raw === 0 ? raw : toEventTime(this.stepId, raw);
    const candidate = ts - this.wait;
    if (candidate > this.watermark) {
      this.base = candidate;
      this.sysAtBase = this.sysNow;
      this.watermark = candidate;
    }
    return ts;
  }

  onNotify(): number {
    this.beforeBatch();
    return this.watermark;
  }

  onEof(): number {
    return Infinity;
  }

  toSystem(eventTime: number): number | undefined {
    if (this.base === -Infinity) return undefined;
    return this.sysAtBase + (eventTime - this.base);
  }

  snapshot(): EventClockState {
    return { base: this.base, sysAtBase: this.sysAtBase };
  }
}

/**
 * Takes each item's timestamp from the item itself (event time).
 *
 * The watermark is the largest timestamp seen so far minus `waitForSystemDuration`, advanced by
 * the system time that has passed since that item was seen, so the windows of an idle source
 * still close. It never moves backwards. An item whose timestamp is below the watermark is late:
 * it goes to the operator's `.late` stream. Each key has its own watermark, as in Bytewax.
 *
 * System time that passes while the process is down counts as well, so after a resume every
 * window closes at the same system time as it would have without the crash.
 *
 * ## Example
 * ```ts
 * import { EventClock, TumblingWindower, countWindow } from 'weir/windowing';
 * const clock = new EventClock((e: { at: Date; word: string }) => e.at, 10_000);
 * const counts = events.pipe(countWindow('counts', clock, new TumblingWindower(60_000), (e) => e.word));
 * ```
 */
export class EventClock<V> implements Clock<V, EventClockState> {
  /**
   * @param tsGetter returns an item's timestamp: a `Date` or ms since the Unix epoch
   * @param waitForSystemDuration how long, in ms, to wait for out-of-order items
   * @param options `now`: the system time source, for tests
   */
  constructor(
    readonly tsGetter: (value: V) => Timestamp,
    readonly waitForSystemDuration: number,
    readonly options: ClockOptions = {},
  ) {}

  /**
   * Checks the arguments; a window operator calls it when it is added to a flow.
   * @param stepId the window step's full id
   */
  check(stepId: string): void {
    if (typeof this.tsGetter !== 'function') {
      throw new StepError(stepId, `EventClock tsGetter must be a function, got ${describeValue(this.tsGetter)}`);
    }
    const w = this.waitForSystemDuration;
    if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) {
      throw new StepError(stepId, `EventClock waitForSystemDuration must be a finite number of ms >= 0, got ${describeValue(w)}`);
    }
  }

  /**
   * @param resume the key's stored clock state, or `undefined`
   * @param env the step and the runtime's time source
   * @returns the key's clock logic
   */
  build(resume: EventClockState | undefined, env: ClockEnv): ClockLogic<V, EventClockState> {
    if (typeof this.tsGetter !== 'function') throw new WeirError('EventClock tsGetter must be a function');
    return new EventClockLogic<V>(env.stepId, this.tsGetter, this.waitForSystemDuration, this.options.now ?? env.now, resume);
  }
}
