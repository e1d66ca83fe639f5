import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';

/**
 * Spreads items evenly over the workers, to balance work after a skewed source.
 *
 * With one worker, which is all weir runs today, items pass through unchanged.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const balanced = skewed.pipe(op.redistribute('balance'));
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function redistribute<T>(stepId: string): (up: Stream<T>) => Stream<T> {
  return flatMapBatch<T, T>(stepId, (items) => items);
}
