import { StepError, WeirError } from '../../errors.js';
import { type Timestamp, checkPositive, parseAlignTo } from '../time.js';
import { SlidingLogic } from './SlidingWindower.js';
import type { Windower, WindowerLogic } from './Windower.js';

/**
 * Back-to-back windows of fixed length: every item falls in exactly one.
 *
 * Window `id` covers `[alignTo + id*length, alignTo + (id+1)*length)`, so ids count from the
 * aligned origin (and are negative before it).
 *
 * Invalid arguments are reported, naming the step, when the windower is given to a window
 * operator.
 *
 * ## Example
 * ```ts
 * import { TumblingWindower } from 'weir/windowing';
 * const perMinute = new TumblingWindower(60_000, '2024-01-01T00:00:00Z');
 * const perHourCET = new TumblingWindower(3_600_000, '2024-01-01T00:00:00+01:00');
 * ```
 */
export class TumblingWindower implements Windower<number[]> {
  /** The origin in ms since the Unix epoch; `NaN` when `alignTo` was invalid. */
  readonly align: number;
  private readonly problem: string | undefined;

  /**
   * @param length window length in ms, > 0
   * @param alignTo an instant at which a window starts: a `Date`, ms since the Unix epoch, or an
   *   ISO 8601 string with a zone (`Z` or `+hh:mm`); a local-time string is refused. Default 0.
   */
  constructor(
    readonly length: number,
    alignTo: Timestamp | string = 0,
  ) {
    const a = parseAlignTo('TumblingWindower', alignTo);
    this.align = typeof a === 'number' ? a : NaN;
    this.problem = checkPositive('TumblingWindower', 'length', length) ?? (typeof a === 'string' ? a : undefined);
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
    return new SlidingLogic(this.length, this.length, this.align, resume);
  }
}
